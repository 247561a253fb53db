// A backup read back (pipeline/backup_read.h).
#include "pipeline/backup_read.h"

#include <algorithm>

#include "aws/crypto.h"
#include "core/strings.h"
#include "pipeline/backup.h"
#include "sinks/compressor.h"
#include "sources/factory.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

// Lines of decompressed text gathered into batches of `batch_size` for `on_lines`; memory is
// one batch (and the line being read), not a part.
class LineBatcher {
 public:
  LineBatcher(const RecordLines& on_lines, size_t batch_size)
      : on_lines_(on_lines), batch_size_(std::max<size_t>(batch_size, 1)) {}
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
    if (!ends_.empty() && on_lines_) {
      views_.clear();
      for (auto [b, e] : ends_) views_.emplace_back(text_.data() + b, e - b);
      RETURN_IF_ERROR(on_lines_(views_));
    }
    ends_.clear();
    text_.erase(0, line_start_);  // keeps the line being read
    line_start_ = 0;
    return Status::Ok();
  }

  const RecordLines& on_lines_;  // null: the lines are only read through (a check)
  size_t batch_size_;
  std::string text_;
  size_t line_start_ = 0;
  std::vector<std::pair<size_t, size_t>> ends_;
  std::vector<std::string_view> views_;
};

// What in `doc` is not of a manifest's shape (docs/formats.md, Manifest), naming the field;
// "" when every field the readers use has its type, so that reading them cannot throw.
std::string ShapeProblem(const OJ& doc) {
  if (!doc.is_object()) return "it is not a JSON object";
  auto bad = [](const OJ& o, const char* field, bool (OJ::*is)() const noexcept) {
    return o.contains(field) && !(o[field].*is)();
  };
  for (const char* f : {"engine", "table", "run_id", "codec", "finished_at"})
    if (bad(doc, f, &OJ::is_string)) return std::string(f) + " is not a string";
  if (bad(doc, "row_count", &OJ::is_number_integer)) return "row_count is not a whole number";
  if (doc.contains("snapshot") && !doc["snapshot"].is_null() &&
      (!doc["snapshot"].is_object() || bad(doc["snapshot"], "position", &OJ::is_string)))
    return "snapshot is not an object with a position";
  if (!doc.contains("parts") || !doc["parts"].is_array()) return "parts is not a list";
  for (const auto& p : doc["parts"])
    if (!p.is_object() || bad(p, "key", &OJ::is_string) || bad(p, "sha256", &OJ::is_string) ||
        bad(p, "bytes", &OJ::is_number_unsigned) || bad(p, "rows", &OJ::is_number_integer))
      return "a part is not an object with a key, sha256, bytes and rows";
  if (!doc.contains("columns") || !doc["columns"].is_array()) return "columns is not a list";
  for (const auto& c : doc["columns"]) {
    bool good = c.is_object() && !bad(c, "name", &OJ::is_string) &&
                !bad(c, "source_type", &OJ::is_string) && !bad(c, "domain_of", &OJ::is_string) &&
                !bad(c, "nullable", &OJ::is_boolean) && !bad(c, "enum_values", &OJ::is_array);
    for (const auto& l : good ? c.value("enum_values", OJ::array()) : OJ::array())
      good = good && l.is_string();
    if (!good) return "a column is not an object with a name, types and labels";
  }
  if (bad(doc, "primary_key", &OJ::is_array)) return "primary_key is not a list";
  for (const auto& k : doc.value("primary_key", OJ::array()))
    if (!k.is_string()) return "primary_key is not a list of column names";
  return "";
}

}  // namespace

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
    if (!EndsWith(o.key, "/manifest.json")) continue;
    // <folder>/<engine>/<table>/<run-id>/manifest.json
    std::string rest = o.key.substr(folder.size() + 1);
    auto parts = Split(rest, '/');
    if (parts.size() != 4) continue;
    auto e = ParseEngine(parts[0]);
    if (!e.ok() || (!table.empty() && parts[1] != table)) continue;
    auto text = store.Get(o.key);
    if (!text.ok()) continue;
    auto m = OJ::parse(*text, nullptr, false);
    if (m.is_discarded() || !ShapeProblem(m).empty()) continue;
    BackupListing b;
    b.engine = *e;
    b.table = std::string(parts[1]);
    b.run_id = std::string(parts[2]);
    b.manifest_key = o.key;
    b.rows = m.value("row_count", int64_t{0});
    b.codec = m.value("codec", "");
    b.finished_at = m.value("finished_at", "");
    for (const auto& p : m["parts"]) {
      b.parts++;
      b.bytes += p.value("bytes", uint64_t{0});
    }
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BackupListing& a, const BackupListing& b) {
    return a.run_id != b.run_id ? RunIdOlder(b.run_id, a.run_id) : a.manifest_key < b.manifest_key;
  });
  return out;
}

bool RunIdOlder(const std::string& a, const std::string& b) {
  auto split = [](const std::string& id) {
    const size_t dash = id.rfind('-');
    // (at most 9 digits: a longer suffix is not ours, and must not overflow)
    const bool numbered = dash != std::string::npos && dash + 1 < id.size() &&
                          id.size() - dash - 1 <= 9 &&
                          id.find_first_not_of("0123456789", dash + 1) == std::string::npos;
    return numbered ? std::make_pair(id.substr(0, dash), std::stoll(id.substr(dash + 1)))
                    : std::make_pair(id, 1LL);
  };
  return split(a) < split(b);
}

Result<std::optional<std::string>> LatestManifestKey(ObjectStore& store, const std::string& folder,
                                                     Engine engine, const std::string& table) {
  const std::string prefix = folder + "/" + EngineName(engine) + "/" + table + "/";
  ASSIGN_OR_RETURN(auto listed, store.List(prefix));
  std::optional<std::string> latest;
  std::string latest_run;
  for (const auto& o : listed) {
    // Only <prefix><run-id>/manifest.json: a table named "t/x" has its own prefix.
    const std::string rest = o.key.substr(prefix.size());
    if (!EndsWith(rest, "/manifest.json") || Split(rest, '/').size() != 2) continue;
    // By run id, not by key: "…Z/manifest.json" sorts after "…Z-2/manifest.json".
    const std::string run = rest.substr(0, rest.find('/'));
    if (!latest || RunIdOlder(latest_run, run)) {
      latest = o.key;
      latest_run = run;
    }
  }
  return latest;
}

Result<BackupManifest> ReadManifest(ObjectStore& store, const std::string& key) {
  ASSIGN_OR_RETURN(std::string text, store.Get(key));
  BackupManifest m;
  m.key = key;
  m.doc = OJ::parse(text, nullptr, false);
  if (m.doc.is_discarded()) return Corruption(store.Describe(key) + " is not a backup manifest");
  if (std::string problem = ShapeProblem(m.doc); !problem.empty())
    return Corruption(store.Describe(key) + " is not a backup manifest: " + problem);
  if (auto engine = ParseEngine(m.doc.value("engine", "")); engine.ok()) m.table.engine = *engine;
  m.table.name = m.doc.value("table", "");
  for (const auto& c : m.doc["columns"]) {
    ColumnInfo col{c.value("name", ""),       c.value("source_type", "text"),
                   c.value("nullable", true), {},
                   c.value("domain_of", ""),  c.value("type_definition", "")};
    for (const auto& l : c.value("enum_values", OJ::array())) col.enum_values.push_back(l);
    m.table.columns.push_back(std::move(col));
  }
  for (const auto& k : m.doc.value("primary_key", OJ::array())) m.table.primary_key.push_back(k);
  m.codec = m.doc.value("codec", "gzip");
  if (auto decoder = MakeDecompressor(m.codec); !decoder.ok())
    return Corruption(store.Describe(key) +
                      " is not a backup manifest: " + decoder.status().message());
  return m;
}

Status StreamPart(ObjectStore& store, const BackupManifest& m, const OJ& part, size_t batch_size,
                  const RecordLines& on_lines) {
  std::string key = part.value("key", "");
  ASSIGN_OR_RETURN(auto decoder, MakeDecompressor(m.codec));
  aws::Sha256Stream sha;
  LineBatcher lines(on_lines, batch_size);
  Status decoded;  // the first error of the decompressor or of on_lines
  auto to_lines = [&](std::string_view text) { return lines.Add(text); };
  Status read = store.GetStream(key, [&](std::string_view chunk) {
    sha.Update(chunk);
    if (decoded.ok()) decoded = decoder->Write(chunk, to_lines);
    // An error of on_lines stops the read; a decoding error waits for the sha256.
    return decoded.ok() || decoded.code() == StatusCode::kCorruption ? Status::Ok() : decoded;
  });
  if (!read.ok()) {
    if (read.code() == StatusCode::kNotFound)
      return NotFound("missing part " + store.Describe(key) + " (" + read.message() + ")");
    return read;
  }
  if (aws::Hex(sha.Finish()) != part.value("sha256", ""))
    return Corruption("part " + store.Describe(key) +
                      " does not match its sha256 in the manifest (corrupted)");
  if (decoded.ok()) decoded = decoder->Finish(to_lines);
  if (decoded.ok()) decoded = lines.Finish();
  if (!decoded.ok() && decoded.code() == StatusCode::kCorruption)
    return Corruption("part " + store.Describe(key) + ": " + decoded.message());
  return decoded;
}

}  // namespace di
