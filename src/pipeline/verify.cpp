#include "pipeline/verify.h"

#include <map>

#include "aws/crypto.h"
#include "core/json_encode.h"
#include "pipeline/backup.h"
#include "pipeline/backup_read.h"
#include "pipeline/change_log.h"
#include "sinks/dynamo_key.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr size_t kShown = 20;  // mismatching keys listed per table

// Numbers in canonical form, so "12.3400" from the source equals DynamoDB's "12.34".
J Normalize(const J& av) {
  if (av.is_object()) {
    J out = J::object();
    for (auto& [k, v] : av.items())
      out[k] = k == "N" && v.is_string() ? J(CanonicalNumber(v)) : Normalize(v);
    return out;
  }
  if (av.is_array()) {
    J out = J::array();
    for (auto& v : av) out.push_back(Normalize(v));
    return out;
  }
  return av;
}

uint64_t Digest(const std::string& s) {
  std::string h = aws::Sha256(s);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(h[i]);
  return v;
}

void Compare(const std::map<std::string, uint64_t>& source,
             const std::map<std::string, uint64_t>& other, const std::string& where,
             TableVerification& r) {
  auto note = [&](const std::string& what, const std::string& key) {
    if (r.mismatches.size() < kShown) r.mismatches.push_back(what + " " + where + ": " + key);
    r.mismatch_count++;
  };
  for (const auto& [k, d] : source) {
    auto it = other.find(k);
    if (it == other.end())
      note("missing in", k);
    else if (it->second != d)
      note("different in", k);
  }
  for (const auto& [k, d] : other)
    if (!source.count(k)) note("extra in", k);
}

std::string KeyOf(const std::vector<Value>& row, const TableInfo& t) {
  std::string key;
  for (const auto& k : t.primary_key) {
    const Value* v = Field(row, t, k);
    key += (key.empty() ? "" : ",") + (v ? ToJson(*v, JsonStyle::kPlain) : "null");
  }
  return key;
}

}  // namespace

std::string CanonicalNumber(const std::string& n) {
  if (n.find_first_of("eE") != std::string::npos) return n;  // leave exponents alone
  std::string s = n, sign;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') sign = "-";
    s = s.substr(1);
  }
  size_t dot = s.find('.');
  std::string ip = s.substr(0, dot), fp = dot == std::string::npos ? "" : s.substr(dot + 1);
  ip.erase(0, std::min(ip.find_first_not_of('0'), ip.size()));
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  if (ip.empty()) ip = "0";
  std::string out = ip + (fp.empty() ? "" : "." + fp);
  return out == "0" ? out : sign + out;
}

std::string DynamoKeyName(const J& av) {
  if (av.contains("N")) return CanonicalNumber(av["N"]);
  if (av.contains("S")) return J(av["S"].get<std::string>()).dump();
  return av.dump();
}

namespace {

using Digests = std::map<std::string, uint64_t>;  // key -> digest

// The name of the key a source row's item has (as DynamoItems writes it, sinks/dynamo_key.h),
// or, for a key that cannot be one of the table's, a name no item has.
std::string ItemKeyName(const std::vector<Value>& row, const TableInfo& table,
                        const DynamoTarget& target, const std::string& key_type) {
  const Value* key = Field(row, table, target.key_column);
  std::string av;
  if (!key || !AppendKeyAttributeValue(table.engine, *key, key_type, av).empty())
    return "(not a key of the table) " + (key ? ToJson(*key, JsonStyle::kExtended) : "null");
  return DynamoKeyName(J::parse(av));
}

// The source side: per key, the digest of its DynamoDB attributes (into `items`, summed in
// r.source_checksum) and of its backup line (into `lines`, summed in `lines_sum`).
Status SourceSide(Source& source, const TableInfo& table, const std::optional<DynamoTarget>& target,
                  const std::string& key_type, size_t batch_size, bool keyed, TableVerification& r,
                  Digests* items, Digests* lines, uint64_t* lines_sum) {
  ASSIGN_OR_RETURN(auto reader, source.Read(table, {batch_size, std::nullopt, false}));
  RecordBatch batch;
  std::string line;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) return Status::Ok();
    for (const auto& row : batch.rows) {
      std::string key = KeyOf(row, table);
      r.source_rows++;
      if (target) {
        J item = RowToMap(row, table, nullptr);
        item.erase(target->key_column);
        for (const auto& ik : target->IndexKeys())  // NULL index keys are left out on write
          if (item.contains(ik) && item[ik].contains("NULL")) item.erase(ik);
        uint64_t d = Digest(Normalize(item).dump());
        if (keyed) (*items)[ItemKeyName(row, table, *target, key_type)] = d;
        r.source_checksum += d;
      }
      line.clear();
      AppendRecord(row, table, line);
      uint64_t d = Digest(line);
      if (keyed) (*lines)[key] = d;
      *lines_sum += d;
    }
  }
}

// The DynamoDB side: every item, its source attributes only.
Status DynamoSide(const TableInfo& table, const DynamoTarget& target, aws::DynamoDbClient& dynamodb,
                  bool keyed, TableVerification& r, Digests* items) {
  std::vector<std::string> columns;
  for (const auto& c : table.columns) columns.push_back(c.name);
  J start = nullptr;
  r.dynamodb_items = 0;
  do {
    ASSIGN_OR_RETURN(auto page, dynamodb.Scan(target.table, 1000, start));
    for (auto& item : page.items) {
      r.dynamodb_items++;
      const std::string key = DynamoKeyName(item[target.key_attribute]);
      J kept = J::object();
      if (table.engine == Engine::kMongo) {
        kept = item;  // documents: every attribute but the added ones
        for (const char* extra : {"genre", "genre_names"}) kept.erase(extra);
        kept.erase(target.key_attribute);
      } else {
        for (const auto& c : columns)
          if (c != target.key_column && item.contains(c)) kept[c] = item[c];
      }
      uint64_t d = Digest(Normalize(kept).dump());
      if (keyed) (*items)[key] = d;
      r.dynamodb_checksum += d;
    }
    start = page.last_evaluated_key;
  } while (!start.is_null());
  return Status::Ok();
}

// What one backup part gave: its records' count, the sum of their digests, and (keyed) each
// line's digest by its key — merged into the table's only once the part is whole.
struct PartDigests {
  int64_t rows = 0;
  uint64_t sum = 0;
  Digests lines;
};

// A batch of one part's records, each line's digest by its key.
// The key a record (or a change log's key object) is compared by: its primary key's JSON
// values, joined by commas (a MongoDB ObjectId as its hex).
std::string JsonKey(const J& obj, const TableInfo& table) {
  std::string key;
  for (const auto& k : table.primary_key) {
    J v = obj.is_object() && obj.contains(k) ? obj[k] : J(nullptr);
    if (table.engine == Engine::kMongo && v.is_object() && v.contains("$oid")) v = v["$oid"];
    key += (key.empty() ? "" : ",") + v.dump();
  }
  return key;
}

void AddLines(const std::vector<std::string_view>& batch, const TableInfo& table, bool keyed,
              PartDigests& part) {
  for (std::string_view l : batch) {
    part.rows++;
    uint64_t d = Digest(std::string(l));
    part.sum += d;
    if (!keyed) continue;
    part.lines[JsonKey(J::parse(l, nullptr, false), table)] = d;
  }
}

// The change log after the backup's snapshot replayed onto its lines' digests (`lines`, by
// key): a streamed insert or update gives its key the digest of its row's record, a delete
// removes it. An update that left values unsent (PostgreSQL's unchanged TOAST values) cannot
// be replayed onto a digest: its key is named as one verify cannot check.
Status ReplayChangeLog(ObjectStore& store, const std::string& backup_folder, const TableInfo& table,
                       const std::string& from, TableVerification& r, Digests* lines) {
  return ReadChangeLog(store, backup_folder, table, from, [&](const LoggedChange& c) {
    if (c.doc["op"] == "truncate") {  // every row before it is gone
      lines->clear();
      return Status::Ok();
    }
    const std::string key = JsonKey(c.doc["key"], table);
    if (c.doc.contains("old_key")) lines->erase(JsonKey(c.doc["old_key"], table));
    if (c.doc["op"] == "delete") {
      lines->erase(key);
    } else if (c.doc.contains("unchanged")) {
      (*lines)[key] = 0;
      r.mismatches.push_back("cannot check " + key + " from the change log at " +
                             c.doc["position"].get<std::string>() +
                             ": a streamed update left values unsent");
      r.mismatch_count++;
    } else {
      (*lines)[key] = Digest(c.row_text);
    }
    return Status::Ok();
  });
}

// The backup side: the latest complete backup (one with a manifest), if there is one, each
// part streamed (memory: a batch, and with `keyed` a digest per row), then the table's change
// log from the backup's snapshot on (the stream's changes since; the backup's lines are then
// kept by key whatever `keyed` says). A part that does not match its sha256 or does not
// decode is a mismatch, and its records are not counted.
Status BackupSide(ObjectStore& store, const std::string& backup_folder, const TableInfo& table,
                  bool keyed, size_t batch_size, TableVerification& r, Digests* lines,
                  bool* found) {
  ASSIGN_OR_RETURN(auto key, LatestManifestKey(store, backup_folder, table.engine, table.name));
  *found = key.has_value();
  if (!*found) return Status::Ok();
  ASSIGN_OR_RETURN(BackupManifest m, ReadManifest(store, *key));
  r.backup_run_id = m.doc.value("run_id", "");
  r.backup_rows = 0;
  const J snapshot = m.doc.value("snapshot", J::object());
  const std::string from =
      snapshot.is_object()
          ? ChangeLogPlaceOf(table.engine, snapshot.value("position", std::string()), 0)
          : std::string();
  std::vector<std::string> changes;
  if (!from.empty()) {
    ASSIGN_OR_RETURN(changes, ChangeLogObjects(store, backup_folder, table, from));
  }
  const bool replay = !changes.empty();
  for (const auto& p : m.doc["parts"]) {
    PartDigests part;
    Status s = StreamPart(store, m, p, batch_size, [&](const std::vector<std::string_view>& b) {
      AddLines(b, table, keyed || replay, part);
      return Status::Ok();
    });
    if (s.code() == StatusCode::kCorruption) {
      r.mismatches.push_back(s.message());
      r.mismatch_count++;
      continue;
    }
    RETURN_IF_ERROR(s);
    r.backup_rows += part.rows;
    r.backup_checksum += part.sum;
    for (const auto& [k, d] : part.lines) (*lines)[k] = d;
  }
  if (!replay) return Status::Ok();
  RETURN_IF_ERROR(ReplayChangeLog(store, backup_folder, table, from, r, lines));
  r.backup_rows = static_cast<int64_t>(lines->size());
  r.backup_checksum = 0;
  for (const auto& [k, d] : *lines) r.backup_checksum += d;
  r.backup_run_id += " + change log";
  return Status::Ok();
}

// One pass over the three sides. Unkeyed: counts and order-independent checksums only, in
// constant memory. Keyed: also a key -> digest map per side, to name the keys that differ.
TableVerification VerifyPass(Source& source, const TableInfo& table,
                             const std::optional<DynamoTarget>& target,
                             aws::DynamoDbClient& dynamodb, ObjectStore& store,
                             const std::string& backup_folder, size_t batch_size, bool keyed,
                             bool* differs) {
  TableVerification r;
  r.engine = table.engine;
  r.table = table.name;
  Digests src_items, src_lines;
  uint64_t src_lines_sum = 0;
  std::string key_type = target ? KnownKeyType(*target, table) : "";
  if (target && key_type.empty()) {  // setup chose it from the _ids: the table says
    auto type = dynamodb.PartitionKeyType(target->table);
    if (!(r.status = type.status()).ok()) return r;
    key_type = *type;
  }
  r.status = SourceSide(source, table, target, key_type, batch_size, keyed, r, &src_items,
                        &src_lines, &src_lines_sum);
  if (!r.status.ok()) return r;
  if (target) {
    Digests items;
    if (!(r.status = DynamoSide(table, *target, dynamodb, keyed, r, &items)).ok()) return r;
    if (keyed) Compare(src_items, items, "DynamoDB", r);
    if (r.dynamodb_items != r.source_rows || r.dynamodb_checksum != r.source_checksum)
      *differs = true;
  }
  Digests lines;
  bool found = false;
  if (!(r.status = BackupSide(store, backup_folder, table, keyed, batch_size, r, &lines, &found))
           .ok())
    return r;
  if (found) {
    if (keyed) Compare(src_lines, lines, "backup " + r.backup_run_id, r);
    if (r.backup_rows != r.source_rows || r.backup_checksum != src_lines_sum) *differs = true;
  }
  return r;
}

}  // namespace

TableVerification VerifyTable(Source& source, const TableInfo& table,
                              const std::optional<DynamoTarget>& target,
                              aws::DynamoDbClient& dynamodb, ObjectStore& store,
                              const std::string& backup_folder, size_t batch_size) {
  bool differs = false;
  TableVerification r = VerifyPass(source, table, target, dynamodb, store, backup_folder,
                                   batch_size, false, &differs);
  if (!r.status.ok() || (!differs && r.mismatch_count == 0)) return r;
  // Something differs: a second pass names the keys (memory: a digest per row).
  return VerifyPass(source, table, target, dynamodb, store, backup_folder, batch_size, true,
                    &differs);
}

}  // namespace di
