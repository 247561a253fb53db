#include "pipeline/backup.h"

#include "sinks/backup_record.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "aws/crypto.h"
#include "core/json_encode.h"
#include "sinks/compressor.h"

namespace di {
namespace {

using JsonDoc = nlohmann::json;
constexpr size_t kFlushBytes = 256 << 10;  // compressed bytes handed to the store at a time
// Encoded bytes handed to the part at a time: a gzip member each (256 KiB members are 0.9%
// larger than one stream of the reservations; 1 MiB ones, 0.2%, at four times the memory).
constexpr size_t kChunkBytes = 256 << 10;

std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  return FormatTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
}

// One part file being written: compressor -> sha256 -> object writer, off the reading thread.
// Chunks of lines reach the part's threads through a bounded queue of recycled buffers, so
// reading and encoding the next rows overlaps compressing and storing the last ones (memory:
// kQueueDepth chunks of ~256 KiB and one per thread). gzip chunks are compressed in parallel, each
// as its own gzip member (a gzip file may hold several one after the other; gunzip, zcat and every
// gzip library join them), and stored in order; zstd streams one frame on one thread (it is
// fast enough).
class PartWriter {
 public:
  PartWriter(ObjectStore& store, std::string key, Compression codec)
      : store_(store), key_(std::move(key)), codec_(codec), members_(codec == Compression::kGzip) {}
  ~PartWriter() {  // without Finish (a failure or a stop): the object is left unfinished
    Close(false);
  }

  Status Open() {
    ASSIGN_OR_RETURN(writer_, store_.Create(key_, "application/x-ndjson"));
    unsigned threads = 1;
    if (members_) threads = std::clamp(std::thread::hardware_concurrency(), 2u, 4u);
    // Every codec first: a thread holds its codec while the vector would still grow.
    for (unsigned i = 0; i < threads; ++i) codecs_.push_back(MakeCompressor(codec_));
    for (unsigned i = 0; i < threads; ++i) {
      Compressor* codec = codecs_[i].get();
      threads_.emplace_back([this, codec] { Loop(*codec); });
    }
    return Status::Ok();
  }
  // Hands `lines` to the part's threads; `lines` comes back empty (a recycled buffer).
  Status Append(std::string& lines, int64_t rows) {
    rows_ += rows;
    raw_ += lines.size();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return queue_.size() < kQueueDepth || !error_.ok(); });
      if (!error_.ok()) return error_;
      queue_.push_back({chunks_++, std::move(lines)});
      if (free_.empty()) {
        lines = std::string();
      } else {
        lines = std::move(free_.back());
        free_.pop_back();
      }
      lines.clear();
    }
    cv_.notify_all();
    return Status::Ok();
  }
  Status Finish() {
    Close(true);
    return error_;
  }
  uint64_t raw_bytes() const { return raw_; }
  JsonDoc Describe() {
    return {{"key", key_},
            {"rows", rows_},
            {"bytes", stored_},
            {"uncompressed_bytes", raw_},
            {"sha256", aws::Hex(sha_.Finish())}};
  }
  uint64_t stored_bytes() const { return stored_; }

 private:
  // 2 MiB of lines queued: enough slack that the reading thread and a lone zstd thread, which
  // share two cores with the database server, rarely wait on each other (measured: the
  // median ratio to psql | zstd over 8 interleaved runs of 100k reservations: 0.86 at depth
  // 2, 0.95 at 8).
  static constexpr size_t kQueueDepth = 8;
  struct Chunk {
    uint64_t seq;
    std::string lines;
  };

  void Close(bool finish) {
    if (threads_.empty()) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    if (!finish || !error_.ok()) return;
    // The threads are done: what is left runs here.
    Status s = Status::Ok();
    if (!members_ || chunks_ == 0)
      s = codecs_[0]->Finish(pending_);  // (an empty part: one empty member)
    if (s.ok()) s = Store(pending_);
    if (s.ok()) s = writer_->Finish();
    if (!s.ok()) error_ = s;
  }

  void Loop(Compressor& codec) {
    std::string out;
    while (true) {
      Chunk chunk;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      Status s = Status::Ok();
      if (members_) {
        out.clear();
        s = codec.Whole(chunk.lines, out);
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stored_chunks_ == chunk.seq || !error_.ok(); });
        const bool ok = error_.ok();
        lock.unlock();
        if (s.ok() && ok) s = Store(out);  // in order: one thread at a time gets here
      } else if (Ok()) {
        s = codec.Write(chunk.lines, pending_);
        if (s.ok() && pending_.size() >= kFlushBytes) s = Store(pending_);
      }
      std::lock_guard lock(mu_);
      if (!s.ok() && error_.ok()) error_ = s;
      if (members_) ++stored_chunks_;
      chunk.lines.clear();
      free_.push_back(std::move(chunk.lines));
      cv_.notify_all();
    }
  }
  bool Ok() {
    std::lock_guard lock(mu_);
    return error_.ok();
  }
  // Hashes, counts and writes compressed bytes (then clears them).
  Status Store(std::string& bytes) {
    if (bytes.empty()) return Status::Ok();
    sha_.Update(bytes);
    stored_ += bytes.size();
    Status s = writer_->Write(bytes);
    bytes.clear();
    return s;
  }

  ObjectStore& store_;
  std::string key_;
  Compression codec_;
  const bool members_;  // gzip: one member per chunk, compressed in parallel
  std::vector<std::unique_ptr<Compressor>> codecs_;  // one per thread
  std::unique_ptr<ObjectWriter> writer_;
  aws::Sha256Stream sha_;
  std::string pending_;  // zstd/none: compressed bytes not yet stored
  int64_t rows_ = 0;
  uint64_t raw_ = 0, stored_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
  std::vector<std::string> free_;
  uint64_t chunks_ = 0, stored_chunks_ = 0;
  bool closing_ = false;
  Status error_;
  std::vector<std::thread> threads_;
};

JsonDoc PositionJson(const std::optional<Position>& p, JsonStyle style) {
  if (!p) return nullptr;
  JsonDoc key = JsonDoc::array();
  for (const auto& k : p->key) key.push_back(JsonDoc::parse(ToJson(k, style)));
  return {{"cursor", JsonDoc::parse(ToJson(p->cursor, style))}, {"key", key}};
}

}  // namespace

nlohmann::json LogPositionJson(const LogPosition& p) {
  if (p.empty()) return nullptr;
  nlohmann::json j = {{"engine", EngineName(p.engine)}, {"position", p.position}};
  if (!p.file.empty()) {
    j["file"] = p.file;
    j["offset"] = p.offset;
  }
  return j;
}

std::string BackupPrefix(const std::string& folder, Engine engine, const std::string& table,
                         const std::string& run_id) {
  return folder + "/" + EngineName(engine) + "/" + table + "/" + run_id + "/";
}

HighWater::HighWater(const TableInfo& table)
    : table_(table),
      track_(!table.cursor_column.empty() && !NullableCursor(table) &&
             (table.engine == Engine::kMongo || !table.primary_key.empty())) {
  if (track_ && table.engine != Engine::kMongo) keyset_ = KeysetColumns(table);
}

void HighWater::Add(const std::vector<Value>& row) {
  if (!track_) return;
  if (table_.engine != Engine::kMongo) {
    std::vector<Value> values;
    for (size_t i : keyset_) values.push_back(row[i]);
    AddKeyset(values.data());
    return;
  }
  const Document& d = row[0].as<Document>();
  const Value* c = d.Find(table_.cursor_column);
  const Value* id = d.Find("_id");
  if (!c || !id) return;
  const bool by_id = table_.cursor_column == "_id";
  if (c->is_null() || !Beyond(*c, id, by_id ? 0 : 1)) return;
  high_ = by_id ? Position{*c, {}} : Position{*c, {*id}};
}

void HighWater::AddKeyset(const Value* values) {
  if (!track_ || keyset_.empty() || values[0].is_null()) return;
  if (!Beyond(values[0], values + 1, keyset_.size() - 1)) return;
  high_ = Position{values[0], std::vector<Value>(values + 1, values + keyset_.size())};
}

bool HighWater::Beyond(const Value& cursor, const Value* key, size_t key_size) const {
  if (!high_) return true;
  int c = CompareValues(cursor, high_->cursor);
  for (size_t i = 0; c == 0 && i < key_size && i < high_->key.size(); ++i)
    c = CompareValues(key[i], high_->key[i]);
  return c > 0;
}

std::string MakeRunId(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void AppendRecord(const std::vector<Value>& row, const TableInfo& table, std::string& out) {
  RecordWriter(table).Append(row, out);
}

void HighWater::AddBatch(const ChangeBatch& b) {
  if (!track_) return;
  if (!b.has_cells) {
    for (const auto& row : b.rows) Add(row);
    return;
  }
  if (keyset_.empty()) return;
  std::vector<Value> values(keyset_.size());
  for (size_t r = 0; r < b.cells.rows(); ++r) {
    for (size_t i = 0; i < keyset_.size(); ++i) values[i] = b.cells.value(r, keyset_[i]);
    AddKeyset(values.data());
  }
}

// The part being written and the parts done, cut between batches.
struct BackupWriter::Parts {
  JsonDoc done = JsonDoc::array();
  std::unique_ptr<PartWriter> open;
  std::string lines;       // encoded rows not yet handed to the part
  int64_t chunk_rows = 0;  // rows in `lines`
};

BackupWriter::BackupWriter(ObjectStore& store, const TableInfo& table, const BackupOptions& options,
                           std::string run_id)
    : store_(store),
      table_(table),
      options_(options),
      run_id_(std::move(run_id)),
      prefix_(BackupPrefix(options.folder, table.engine, table.name, run_id_)),
      started_(IsoNow()),
      records_(std::make_unique<RecordWriter>(table)),
      parts_(std::make_unique<Parts>()) {}

BackupWriter::~BackupWriter() = default;

const nlohmann::json& BackupWriter::completed_parts() const {
  return parts_->done;
}

void BackupWriter::Resume(const nlohmann::json& parts) {
  if (!parts.is_array()) return;
  parts_->done = parts;
  rows_ = 0;
  bytes_ = 0;
  for (const auto& p : parts) {
    rows_ += p.value("rows", int64_t{0});
    bytes_ += p.value("bytes", uint64_t{0});
  }
}

Status BackupWriter::StartPart() {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05zu.jsonl", static_cast<size_t>(parts_->done.size()));
  parts_->open = std::make_unique<PartWriter>(
      store_, prefix_ + name + CodecExtension(options_.codec), options_.codec);
  return parts_->open->Open();
}

Status BackupWriter::EndPart() {
  Parts& p = *parts_;
  if (!p.lines.empty()) RETURN_IF_ERROR(p.open->Append(p.lines, p.chunk_rows));
  p.chunk_rows = 0;
  RETURN_IF_ERROR(p.open->Finish());
  bytes_ += p.open->stored_bytes();
  p.done.push_back(p.open->Describe());
  p.open.reset();
  return Status::Ok();
}

// Lines go to the part a chunk at a time (each a gzip member: big enough to compress well,
// small enough that the chunks in flight stay a few MB whatever the row size).
Status BackupWriter::RowAdded() {
  Parts& p = *parts_;
  ++p.chunk_rows;
  ++rows_;
  if (p.lines.size() < kChunkBytes) return Status::Ok();
  Status s = p.open->Append(p.lines, p.chunk_rows);
  p.chunk_rows = 0;
  return s;
}

Status BackupWriter::Append(const ChangeBatch& batch) {
  Parts& p = *parts_;
  if (!p.open) RETURN_IF_ERROR(StartPart());
  if (batch.has_cells) {
    for (size_t r = 0; r < batch.cells.rows(); ++r) {
      records_->AppendCells(batch.cells, r, p.lines);
      p.lines += '\n';
      RETURN_IF_ERROR(RowAdded());
    }
  } else {
    for (const auto& row : batch.rows) {
      records_->Append(row, p.lines);
      p.lines += '\n';
      RETURN_IF_ERROR(RowAdded());
    }
  }
  // A part ends between batches once it holds part_bytes: a part holds whole batches, so
  // a resumed run re-reads no row of a finished part.
  if (p.open->raw_bytes() + p.lines.size() >= options_.part_bytes) return EndPart();
  return Status::Ok();
}

Result<std::string> BackupWriter::Finish(const std::optional<Position>& watermark) {
  if (!parts_->open && parts_->done.empty()) RETURN_IF_ERROR(StartPart());  // an empty table
  if (parts_->open) RETURN_IF_ERROR(EndPart());
  const JsonStyle style =
      table_.engine == Engine::kMongo ? JsonStyle::kExtended : JsonStyle::kPlain;
  JsonDoc columns = JsonDoc::array();
  for (const auto& c : table_.columns) {
    JsonDoc col = {{"name", c.name}, {"source_type", c.source_type}, {"nullable", c.nullable}};
    if (!c.enum_values.empty()) col["enum_values"] = c.enum_values;
    if (!c.domain_of.empty()) col["domain_of"] = c.domain_of;
    if (!c.type_definition.empty()) col["type_definition"] = c.type_definition;
    columns.push_back(col);
  }
  JsonDoc manifest = {
      {"format_version", 1},
      {"engine", EngineName(table_.engine)},
      {"database", table_.database},
      {"table", table_.name},
      {"run_id", run_id_},
      {"started_at", started_},
      {"finished_at", IsoNow()},
      {"row_count", rows_},
      {"codec", CodecName(options_.codec)},
      {"record_format", style == JsonStyle::kExtended ? "jsonl-extended-json" : "jsonl"},
      {"parts", parts_->done},
      {"columns", columns},
      {"primary_key", table_.primary_key},
      {"cursor_column", table_.cursor_column},
      {"watermark", PositionJson(watermark, style)},
      {"snapshot", LogPositionJson(snapshot_)},
  };
  const std::string key = prefix_ + "manifest.json";
  RETURN_IF_ERROR(store_.Put(key, manifest.dump(2) + "\n", "application/json"));
  return key;
}

TableBackup BackupTable(Source& source, const TableInfo& table, ObjectStore& store,
                        const BackupOptions& options, const std::string& run_id) {
  auto t0 = std::chrono::steady_clock::now();
  TableBackup result;
  result.engine = table.engine;
  result.table = table.name;
  result.run_id = run_id;
  auto fail = [&](Status s) {
    result.status = std::move(s);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
  };
  auto opened =
      ResumingRead(source, table, {options.batch_size, std::nullopt, false}, options.reconnect);
  if (!opened.ok()) return fail(opened.status());
  std::unique_ptr<RowReader> reader = std::move(*opened);
  // Readers that give the server's text (PostgreSQL and MariaDB) skip the values: records
  // are written from the cells. Otherwise the next batch is read and converted on its own
  // thread while this one is encoded; except for gzip on two cores, where its compressing
  // threads already fill the machine, and for MongoDB, where the time is the server's and a
  // second batch of documents is memory for nothing.
  if (!reader->CanReadCells() && table.engine != Engine::kMongo &&
      (options.codec != Compression::kGzip || std::thread::hardware_concurrency() > 2))
    reader = std::make_unique<PrefetchReader>(std::move(reader));
  SnapshotChangeReader changes(std::move(reader));
  HighWater watermark(table);
  BackupWriter writer(store, table, options, run_id);
  ChangeBatch batch;
  while (true) {
    if (options.stop && options.stop->load())
      return fail(Aborted("stopped before the end of " + table.name));
    auto more = changes.Next(&batch);
    if (!more.ok()) return fail(more.status());
    if (!*more) break;
    watermark.AddBatch(batch);
    if (Status s = writer.Append(batch); !s.ok()) return fail(s);
    if (options.on_progress) options.on_progress(writer.rows());
  }
  auto manifest = writer.Finish(watermark.value());
  if (!manifest.ok()) return fail(manifest.status());
  result.manifest_key = *manifest;
  result.rows = writer.rows();
  result.bytes = writer.bytes();
  result.parts = writer.completed_parts().size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace di
