#include "pipeline/backup.h"

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
constexpr size_t kFlushBytes = 1 << 20;  // compressed bytes handed to the store at a time

std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  return FormatTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
}

// One part file being written: compressor -> sha256 -> object writer. Those three run on
// the part's own thread, fed through a bounded queue of line buffers, so that reading and
// encoding the next batch overlaps compressing and storing the last one (memory: at most
// kQueueDepth buffers of one batch each, recycled).
class PartWriter {
 public:
  PartWriter(ObjectStore& store, std::string key, Compression codec)
      : store_(store), key_(std::move(key)), codec_(MakeCompressor(codec)) {}
  ~PartWriter() {  // without Finish (a failure or a stop): the object is left unfinished
    Close(false);
  }

  Status Open() {
    ASSIGN_OR_RETURN(writer_, store_.Create(key_, "application/x-ndjson"));
    worker_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }
  // Hands `lines` to the part's thread; `lines` comes back empty (a recycled buffer).
  Status Append(std::string& lines, int64_t rows) {
    rows_ += rows;
    raw_ += lines.size();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return queue_.size() < kQueueDepth || !error_.ok(); });
      if (!error_.ok()) return error_;
      queue_.push_back(std::move(lines));
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
  static constexpr size_t kQueueDepth = 4;

  void Close(bool finish) {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      finish_ = finish;
    }
    cv_.notify_all();
    worker_.join();
  }

  void Loop() {
    while (true) {
      std::string buf;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) break;
        buf = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      Status s = Ok() ? codec_->Write(buf, pending_) : Status::Ok();
      if (s.ok() && pending_.size() >= kFlushBytes) s = Flush();
      std::lock_guard lock(mu_);
      if (!s.ok() && error_.ok()) error_ = s;
      buf.clear();
      free_.push_back(std::move(buf));
    }
    if (!finish_ || !Ok()) return;
    Status s = codec_->Finish(pending_);
    if (s.ok()) s = Flush();
    if (s.ok()) s = writer_->Finish();
    std::lock_guard lock(mu_);
    if (!s.ok()) error_ = s;
  }
  bool Ok() {
    std::lock_guard lock(mu_);
    return error_.ok();
  }
  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    sha_.Update(pending_);
    stored_ += pending_.size();
    Status s = writer_->Write(pending_);
    pending_.clear();
    return s;
  }

  ObjectStore& store_;
  std::string key_;
  std::unique_ptr<Compressor> codec_;
  std::unique_ptr<ObjectWriter> writer_;
  aws::Sha256Stream sha_;
  std::string pending_;
  int64_t rows_ = 0;
  uint64_t raw_ = 0, stored_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_, free_;
  bool closing_ = false, finish_ = false;
  Status error_;
  std::thread worker_;
};

JsonDoc PositionJson(const std::optional<Position>& p, JsonStyle style) {
  if (!p) return nullptr;
  JsonDoc key = JsonDoc::array();
  for (const auto& k : p->key) key.push_back(JsonDoc::parse(ToJson(k, style)));
  return {{"cursor", JsonDoc::parse(ToJson(p->cursor, style))}, {"key", key}};
}

}  // namespace

std::string BackupPrefix(const std::string& folder, Engine engine, const std::string& table,
                         const std::string& run_id) {
  return folder + "/" + EngineName(engine) + "/" + table + "/" + run_id + "/";
}

HighWater::HighWater(const TableInfo& table)
    : table_(table),
      track_(!table.cursor_column.empty() &&
             (table.engine == Engine::kMongo || !table.primary_key.empty())) {
  if (track_ && table.engine != Engine::kMongo) keyset_ = KeysetColumns(table);
}

void HighWater::Add(const std::vector<Value>& row) {
  if (!track_) return;
  Position p;
  if (table_.engine == Engine::kMongo) {
    const Document& d = row[0].as<Document>();
    const Value* c = d.Find(table_.cursor_column);
    const Value* id = d.Find("_id");
    if (!c || !id) return;
    p = table_.cursor_column == "_id" ? Position{*c, {}} : Position{*c, {*id}};
  } else {
    p = PositionOf(row, keyset_);
  }
  if (p.cursor.is_null()) return;
  if (high_) {
    int c = CompareValues(p.cursor, high_->cursor);
    for (size_t i = 0; c == 0 && i < p.key.size() && i < high_->key.size(); ++i)
      c = CompareValues(p.key[i], high_->key[i]);
    if (c <= 0) return;
  }
  high_ = std::move(p);
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
  if (table.engine == Engine::kMongo) {
    AppendJson(row[0], JsonStyle::kExtended, out);
    return;
  }
  out += '{';
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(table.columns[i].name, out);
    out += ':';
    AppendJson(row[i], JsonStyle::kPlain, out);
  }
  out += '}';
}

int CompareValues(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
  switch (a.kind()) {
    case ValueKind::kInt64:
      return cmp(a.as<int64_t>(), b.as<int64_t>());
    case ValueKind::kUInt64:
      return cmp(a.as<uint64_t>(), b.as<uint64_t>());
    case ValueKind::kDouble:
      return cmp(a.as<double>(), b.as<double>());
    case ValueKind::kString:
      return cmp(a.as<std::string>(), b.as<std::string>());
    case ValueKind::kTimestamp:
      return cmp(a.as<Timestamp>().micros, b.as<Timestamp>().micros);
    case ValueKind::kDate:
      return cmp(a.as<Date>().days, b.as<Date>().days);
    case ValueKind::kBsonDate:
      return cmp(a.as<BsonDate>().millis, b.as<BsonDate>().millis);
    case ValueKind::kInt32:
      return cmp(a.as<Int32>().v, b.as<Int32>().v);
    case ValueKind::kObjectId:
      return cmp(a.as<ObjectId>().bytes, b.as<ObjectId>().bytes);
    case ValueKind::kDecimal: {
      double x = std::strtod(a.as<Decimal>().text.c_str(), nullptr);
      double y = std::strtod(b.as<Decimal>().text.c_str(), nullptr);
      return cmp(x, y);
    }
    default:
      return 0;
  }
}

TableBackup BackupTable(Source& source, const TableInfo& table, ObjectStore& store,
                        const BackupOptions& options, const std::string& run_id) {
  auto t0 = std::chrono::steady_clock::now();
  TableBackup result;
  result.engine = table.engine;
  result.table = table.name;
  result.run_id = run_id;
  const std::string prefix = BackupPrefix(options.folder, table.engine, table.name, run_id);
  const std::string started = IsoNow();
  const JsonStyle style = table.engine == Engine::kMongo ? JsonStyle::kExtended : JsonStyle::kPlain;
  auto fail = [&](Status s) {
    result.status = std::move(s);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
  };

  auto reader = source.Read(table, {options.batch_size, std::nullopt, false});
  if (!reader.ok()) return fail(reader.status());

  HighWater watermark(table);

  JsonDoc parts = JsonDoc::array();
  std::unique_ptr<PartWriter> part;
  auto start_part = [&]() -> Status {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05zu.jsonl", static_cast<size_t>(parts.size()));
    part = std::make_unique<PartWriter>(store, prefix + name + CodecExtension(options.codec),
                                        options.codec);
    return part->Open();
  };
  auto end_part = [&]() -> Status {
    RETURN_IF_ERROR(part->Finish());
    result.bytes += part->stored_bytes();
    parts.push_back(part->Describe());
    part.reset();
    return Status::Ok();
  };

  RecordBatch batch;
  std::string lines;
  while (true) {
    if (options.stop && options.stop->load())
      return fail(Aborted("stopped before the end of " + table.name));
    auto more = (*reader)->Next(&batch);
    if (!more.ok()) return fail(more.status());
    if (!*more) break;
    lines.clear();
    for (const auto& row : batch.rows) {
      AppendRecord(row, table, lines);
      watermark.Add(row);
      lines += '\n';
    }
    if (!part) {
      Status s = start_part();
      if (!s.ok()) return fail(s);
    }
    Status s = part->Append(lines, static_cast<int64_t>(batch.rows.size()));
    if (!s.ok()) return fail(s);
    result.rows += static_cast<int64_t>(batch.rows.size());
    if (part->raw_bytes() >= options.part_bytes) {
      s = end_part();
      if (!s.ok()) return fail(s);
    }
    if (options.on_progress) options.on_progress(result.rows);
  }
  if (!part && parts.empty()) {  // an empty table still gets one (empty) part
    Status s = start_part();
    if (!s.ok()) return fail(s);
  }
  if (part) {
    Status s = end_part();
    if (!s.ok()) return fail(s);
  }
  result.parts = parts.size();

  JsonDoc columns = JsonDoc::array();
  for (const auto& c : table.columns) {
    JsonDoc col = {{"name", c.name}, {"source_type", c.source_type}, {"nullable", c.nullable}};
    if (!c.enum_values.empty()) col["enum_values"] = c.enum_values;
    if (!c.domain_of.empty()) col["domain_of"] = c.domain_of;
    columns.push_back(col);
  }
  JsonDoc manifest = {
      {"format_version", 1},
      {"engine", EngineName(table.engine)},
      {"database", table.database},
      {"table", table.name},
      {"run_id", run_id},
      {"started_at", started},
      {"finished_at", IsoNow()},
      {"row_count", result.rows},
      {"codec", CodecName(options.codec)},
      {"record_format", style == JsonStyle::kExtended ? "jsonl-extended-json" : "jsonl"},
      {"parts", parts},
      {"columns", columns},
      {"primary_key", table.primary_key},
      {"cursor_column", table.cursor_column},
      {"watermark", PositionJson(watermark.value(), style)},
  };
  result.manifest_key = prefix + "manifest.json";
  Status s = store.Put(result.manifest_key, manifest.dump(2) + "\n", "application/json");
  if (!s.ok()) return fail(s);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace di
