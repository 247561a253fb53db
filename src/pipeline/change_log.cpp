#include "pipeline/change_log.h"

#include <algorithm>
#include <cstdio>

#include "core/strings.h"
#include "pipeline/backup.h"
#include "sinks/backup_record.h"
#include "sinks/compressor.h"
#include "sources/pgoutput.h"

namespace di {

std::string ChangeLogPlaceOf(Engine engine, const std::string& position, uint32_t sequence) {
  if (engine != Engine::kPostgres) return "";
  auto lsn = pgoutput::ParseLsn(position);
  if (!lsn.ok()) return "";
  return PgChangeLogPlace(*lsn, sequence);
}

std::string PgChangeLogPlace(uint64_t lsn, uint32_t sequence) {
  std::string text(16 + 1 + 8, '0');
  for (int i = 15; i >= 0; --i, lsn >>= 4) text[i] = "0123456789ABCDEF"[lsn & 0xF];
  text[16] = '.';
  if (sequence > 99999999) return text.substr(0, 17) + std::to_string(sequence);  // as %08u
  for (int i = 24; i > 16; --i, sequence /= 10) text[i] = static_cast<char>('0' + sequence % 10);
  return text;
}

namespace {

// The codec of an object by its name's ending.
std::string CodecOf(const std::string& key) {
  if (EndsWith(key, ".gz")) return "gzip";
  if (EndsWith(key, ".zst")) return "zstd";
  return "none";
}

// One object's changes, each handed on unless at or before `*last` (which moves).
Status ReadObject(ObjectStore& store, const std::string& key, Engine engine, std::string* last,
                  const std::string& from,
                  const std::function<Status(const LoggedChange&)>& change) {
  ASSIGN_OR_RETURN(std::string data, store.Get(key));
  auto text = Decompress(CodecOf(key), data);
  if (!text.ok())
    return Corruption("change log " + store.Describe(key) + ": " + text.status().message());
  size_t at = 0, line_no = 0;
  while (at < text->size()) {
    size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    LoggedChange c;
    c.doc = nlohmann::json::parse(line, nullptr, false);
    if (!c.doc.is_object() || !c.doc.contains("position") || !c.doc["position"].is_string() ||
        !c.doc.contains("sequence") || !c.doc["sequence"].is_number_unsigned() ||
        !c.doc.contains("op") || (!c.doc.contains("key") && c.doc["op"] != "truncate"))
      return Corruption("change log " + store.Describe(key) + " line " + std::to_string(line_no) +
                        " is not a change record");
    c.place = ChangeLogPlaceOf(engine, c.doc["position"].get<std::string>(),
                               c.doc["sequence"].get<uint32_t>());
    if (c.place.empty())
      return Corruption("change log " + store.Describe(key) + " line " + std::to_string(line_no) +
                        ": position " + c.doc["position"].dump() + " is not a " +
                        EngineName(engine) + " position");
    if (c.place <= *last || c.place < from) continue;
    std::vector<RecordField> fields;
    if (SplitRecord(line, &fields))
      for (const auto& f : fields)
        if (f.key == "row") c.row_text = std::string(f.value);
    *last = c.place;
    RETURN_IF_ERROR(change(c));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ChangeLogObjects(ObjectStore& store,
                                                  const std::string& backup_folder,
                                                  const TableInfo& table, const std::string& from) {
  const std::string prefix = BackupPrefix(backup_folder, table.engine, table.name, "changes");
  ASSIGN_OR_RETURN(auto listed, store.List(prefix));
  std::vector<std::string> keys;
  for (const auto& o : listed) {
    const std::string name = o.key.substr(std::min(o.key.size(), prefix.size()));
    const size_t dash = name.find('-');
    // Objects that end before `from` hold nothing wanted.
    if (dash == std::string::npos || (!from.empty() && name.substr(dash + 1, from.size()) < from))
      continue;
    keys.push_back(o.key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status ReadChangeLog(ObjectStore& store, const std::string& backup_folder, const TableInfo& table,
                     const std::string& from,
                     const std::function<Status(const LoggedChange&)>& change, int64_t* objects) {
  ASSIGN_OR_RETURN(auto keys, ChangeLogObjects(store, backup_folder, table, from));
  std::string last;
  for (const auto& key : keys)
    RETURN_IF_ERROR(ReadObject(store, key, table.engine, &last, from, change));
  if (objects) *objects = static_cast<int64_t>(keys.size());
  return Status::Ok();
}

}  // namespace di
