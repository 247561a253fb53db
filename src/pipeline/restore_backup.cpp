// The backup as restore reads it (pipeline/restore_internal.h): the complete backups under
// the backup folder, a backup's manifest, and a part streamed once through its sha256 and
// the decompressor into batches of lines for a target.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "aws/crypto.h"
#include "core/strings.h"
#include "pipeline/backup.h"
#include "pipeline/restore_internal.h"
#include "sinks/compressor.h"
#include "sources/factory.h"

namespace di {
namespace restore_internal {
namespace {

// Lines of decompressed text gathered into batches of `batch_size` for `target`; memory is
// one batch (and the line being read), not a part.
class LineBatcher {
 public:
  LineBatcher(Target* target, size_t batch_size, RestoreResult* result)
      : target_(target), batch_size_(std::max<size_t>(batch_size, 1)), result_(result) {}
  Status Add(std::string_view text) {
    size_t from = text_.size();
    text_.append(text);
    while (true) {
      size_t nl = text_.find('\n', from);
      if (nl == std::string::npos) return Status::Ok();
      if (nl > line_start_) ends_.push_back({line_start_, nl});
      line_start_ = from = nl + 1;
      if (ends_.size() >= batch_size_) {
        RETURN_IF_ERROR(Flush());
        from = 0;  // the text before it is gone
      }
    }
  }
  // The end of the part: its last line (even without a final newline) and the batch.
  Status Finish() {
    if (text_.size() > line_start_) ends_.push_back({line_start_, text_.size()});
    line_start_ = text_.size();
    return Flush();
  }

 private:
  Status Flush() {
    if (!ends_.empty() && target_) {
      views_.clear();
      for (auto [b, e] : ends_) views_.emplace_back(text_.data() + b, e - b);
      RETURN_IF_ERROR(target_->Write(views_));
      result_->rows += static_cast<int64_t>(views_.size());
    }
    ends_.clear();
    text_.erase(0, line_start_);  // keeps the line being read
    line_start_ = 0;
    return Status::Ok();
  }

  Target* target_;  // null: the lines are only counted out (a verifying read)
  size_t batch_size_;
  RestoreResult* result_;
  std::string text_;
  size_t line_start_ = 0;
  std::vector<std::pair<size_t, size_t>> ends_;
  std::vector<std::string_view> views_;
};

}  // namespace

// The manifest of `run_id`, or of the newest complete backup.
Result<Manifest> FindManifest(ObjectStore& store, const Config& config, const RestoreOptions& o) {
  std::string name = EngineName(o.engine) + "." + o.table;
  std::string key;
  if (!o.run_id.empty()) {
    key = BackupPrefix(config.s3.backup_folder, o.engine, o.table, o.run_id) + "manifest.json";
  } else {
    ASSIGN_OR_RETURN(auto list, ListBackups(store, config.s3.backup_folder, o.engine, o.table));
    if (list.empty())
      return NotFound("no complete backup of " + name + " under " +
                      store.Describe(config.s3.backup_folder + "/" + EngineName(o.engine) + "/" +
                                     o.table + "/") +
                      "; run `data-ingestion --mode backup --table " + o.table + "` first");
    key = list[0].manifest_key;
  }
  auto text = store.Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return NotFound("backup " + o.run_id + " of " + name + " has no manifest (" +
                      store.Describe(key) +
                      "): it is incomplete or does not exist; `--latest` picks the newest "
                      "complete one");
    return text.status();
  }
  Manifest m;
  m.key = key;
  m.doc = OJ::parse(*text, nullptr, false);
  if (m.doc.is_discarded() || !m.doc.contains("parts") || !m.doc.contains("columns"))
    return Corruption(store.Describe(key) + " is not a backup manifest");
  for (const auto& c : m.doc["columns"]) {
    Column col{c.value("name", ""),
               c.value("source_type", "text"),
               c.value("nullable", true),
               {},
               c.value("domain_of", "")};
    for (const auto& l : c.value("enum_values", OJ::array())) col.enum_values.push_back(l);
    m.columns.push_back(std::move(col));
  }
  for (const auto& k : m.doc.value("primary_key", OJ::array())) m.primary_key.push_back(k);
  m.codec = m.doc.value("codec", "gzip");
  return m;
}

// One part read once: its bytes through SHA-256 and the decompressor, its lines to `target`
// (null: only verified). A part that does not decode is still read to its end, so that a
// corrupted one is reported as such; the sha256 is compared when its stream ends.
Status ReadPart(ObjectStore& store, const Manifest& m, const OJ& part, size_t batch_size,
                Target* target, RestoreResult* result) {
  std::string key = part.value("key", "");
  ASSIGN_OR_RETURN(auto decoder, MakeDecompressor(m.codec));
  aws::Sha256Stream sha;
  LineBatcher lines(target, batch_size, result);
  Status decoded;  // the first error of the decompressor or of the target
  auto to_lines = [&](std::string_view text) { return lines.Add(text); };
  Status read = store.GetStream(key, [&](std::string_view chunk) {
    sha.Update(chunk);
    if (decoded.ok()) decoded = decoder->Write(chunk, to_lines);
    // A target's error stops the read; a decoding error waits for the sha256.
    return decoded.ok() || decoded.code() == StatusCode::kCorruption ? Status::Ok() : decoded;
  });
  if (!read.ok()) {
    if (read.code() == StatusCode::kNotFound)
      return NotFound("backup " + result->run_id + " is missing part " + store.Describe(key) +
                      " (" + read.message() + "); nothing was restored");
    return read;
  }
  if (aws::Hex(sha.Finish()) != part.value("sha256", ""))
    return Corruption("part " + store.Describe(key) +
                      " does not match its sha256 in the manifest (corrupted); nothing was "
                      "restored");
  if (decoded.ok()) decoded = decoder->Finish(to_lines);
  if (decoded.ok()) decoded = lines.Finish();
  if (!decoded.ok() && decoded.code() == StatusCode::kCorruption)
    return Corruption("part " + store.Describe(key) + ": " + decoded.message() +
                      "; nothing was restored");
  return decoded;
}

}  // namespace restore_internal

Result<std::vector<BackupListing>> ListBackups(ObjectStore& store, const std::string& folder,
                                               std::optional<Engine> engine,
                                               const std::string& table) {
  std::string prefix = folder + "/";
  if (engine) {
    prefix += EngineName(*engine) + "/";
    if (!table.empty()) prefix += table + "/";
  }
  ASSIGN_OR_RETURN(auto objects, store.List(prefix));
  std::vector<BackupListing> out;
  for (const auto& o : objects) {
    if (!restore_internal::EndsWith(o.key, "/manifest.json")) continue;
    // <folder>/<engine>/<table>/<run-id>/manifest.json
    std::string rest = o.key.substr(folder.size() + 1);
    auto parts = Split(rest, '/');
    if (parts.size() != 4) continue;
    auto e = ParseEngine(parts[0]);
    if (!e.ok() || (!table.empty() && parts[1] != table)) continue;
    auto text = store.Get(o.key);
    if (!text.ok()) continue;
    auto m = nlohmann::json::parse(*text, nullptr, false);
    if (m.is_discarded()) continue;
    BackupListing b;
    b.engine = *e;
    b.table = std::string(parts[1]);
    b.run_id = std::string(parts[2]);
    b.manifest_key = o.key;
    b.rows = m.value("row_count", int64_t{0});
    b.codec = m.value("codec", "");
    b.finished_at = m.value("finished_at", "");
    for (const auto& p : m.value("parts", nlohmann::json::array())) {
      b.parts++;
      b.bytes += p.value("bytes", uint64_t{0});
    }
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BackupListing& a, const BackupListing& b) {
    return a.run_id != b.run_id ? a.run_id > b.run_id : a.manifest_key < b.manifest_key;
  });
  return out;
}

}  // namespace di
