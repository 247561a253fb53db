#include "pipeline/dynamo_items.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/json_encode.h"
#include "sinks/cell_encoding.h"
#include "sinks/dynamo_item.h"
#include "sinks/dynamo_key.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr size_t kMaxItemBytes = 400 * 1024;

std::string KeyText(const Value& v) {
  return ToJson(v, JsonStyle::kPlain);
}

// One PutRequest written as JSON text while its attributes are added, counting the item's
// size as DynamoDB does (names + values).
class PutRequestText {
 public:
  explicit PutRequestText(std::string& out) : out_(out) { out_ += "{\"PutRequest\":{\"Item\":{"; }
  void Name(std::string_view name) {
    if (count_++) out_ += ',';
    AppendJsonString(name, out_);
    out_ += ':';
    size_ += name.size();
  }
  void Attr(std::string_view name, const Value& v, std::vector<std::string>* warnings) {
    Name(name);
    size_ += AppendAttributeValue(v, out_, warnings);
  }
  void Raw(std::string_view name, std::string_view av_text, size_t av_size) {
    Name(name);
    out_ += av_text;
    size_ += av_size;
  }
  // A cell's AttributeValue (sinks/cell_encoding.h).
  void Cell(std::string_view name, const CellBatch& b, size_t row, size_t column,
            std::vector<std::string>* warnings) {
    Name(name);
    size_ += AppendCellAsAttributeValue(b, row, column, out_, warnings);
  }
  // The same, `quoted`: the name as a JSON string followed by ':'; `name_size`: its bytes.
  void QuotedCell(std::string_view quoted, size_t name_size, const CellBatch& b, size_t row,
                  size_t column, std::vector<std::string>* warnings) {
    if (count_++) out_ += ',';
    out_ += quoted;
    size_ += name_size + AppendCellAsAttributeValue(b, row, column, out_, warnings);
  }
  void Close() { out_ += "}}}"; }
  size_t size() const { return size_; }

 private:
  std::string& out_;
  size_t count_ = 0, size_ = 0;
};

// An N's digits as a MongoDB number: a whole one that fits as a long, else a double (a
// MongoDB `_id` number compares equal across its types).
Result<Value> MongoNumber(const std::string& n) {
  if (n.find_first_of(".eE") == std::string::npos) {
    try {
      return Value(int64_t{std::stoll(n)});
    } catch (...) {
    }
  }
  try {
    size_t used = 0;
    double d = std::stod(n, &used);
    if (used == n.size() && std::isfinite(d)) return Value(d);
  } catch (...) {
  }
  return InvalidArgument("the key " + n + " is not a number a MongoDB _id can hold");
}

}  // namespace

const Value* Field(const std::vector<Value>& row, const TableInfo& t, const std::string& name) {
  if (t.engine == Engine::kMongo) return row[0].as<Document>().Find(name);
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].name == name) return &row[i];
  return nullptr;
}

size_t AppendRowAsMap(const std::vector<Value>& row, const TableInfo& t, std::string& out,
                      std::vector<std::string>* warnings) {
  if (t.engine == Engine::kMongo) return AppendAttributeValue(row[0], out, warnings);
  return AppendAttributeMap(
      std::min(row.size(), t.columns.size()),
      [&](size_t i) -> std::string_view { return t.columns[i].name; },
      [&](size_t i) -> const Value& { return row[i]; }, out, warnings);
}

J RowToMap(const std::vector<Value>& row, const TableInfo& t, std::vector<std::string>* warnings) {
  std::string text;
  AppendRowAsMap(row, t, text, warnings);
  return J::parse(text)["M"];
}

DynamoItems::DynamoItems(Source& lookup, const TableInfo& table, const DynamoTarget& target,
                         aws::DynamoDbClient& dynamodb, ObjectStore& store, std::string dead_folder)
    : lookup_(lookup),
      table_(table),
      target_(target),
      dynamodb_(dynamodb),
      store_(store),
      dead_folder_(std::move(dead_folder)),
      index_keys_(target.IndexKeys()) {
  auto column_index = [&](const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == name) return i;
    return table.columns.size();
  };
  key_index_ = column_index(target.key_column);
  asked_.push_back(key_index_);
  for (const auto& e : target.embed) asked_.push_back(column_index(e.parent_column));
  // NULL index keys are left out: the indexes are sparse.
  for (const auto& c : table.columns) {
    replaced_.push_back(ReplacedByMapping(c.name));
    sparse_.push_back(IndexKey(c.name));
    quoted_.emplace_back();
    AppendJsonString(c.name, quoted_.back());
    quoted_.back() += ':';
  }
}

Status DynamoItems::Open() {
  key_type_ = KnownKeyType(target_, table_);
  if (key_type_.empty()) {
    ASSIGN_OR_RETURN(key_type_, dynamodb_.PartitionKeyType(target_.table));
  }
  for (const auto& e : target_.embed) {
    ASSIGN_OR_RETURN(TableInfo info, lookup_.Describe(e.table));
    children_[e.table] = std::move(info);
  }
  std::string aux = target_.enrichment == "room_seat_counts" ? "seats"
                    : target_.enrichment == "movie_genres"   ? "genres"
                                                             : "";
  if (!aux.empty()) {
    ASSIGN_OR_RETURN(TableInfo info, lookup_.Describe(aux));
    children_[aux] = std::move(info);
  }
  return Status::Ok();
}

std::string DynamoItems::KeyAttributeValue(const Value& key) const {
  std::string av;
  return AppendKeyAttributeValue(table_.engine, key, key_type_, av).empty() ? av : "";
}

// Attributes of the mapping replace columns of the same name: the key and the embedded
// lists (the enrichment's are per row).
bool DynamoItems::ReplacedByMapping(const std::string& name) const {
  if (name == target_.key_column || name == target_.key_attribute) return true;
  for (const auto& e : target_.embed)
    if (name == e.as) return true;
  return false;
}

bool DynamoItems::IndexKey(const std::string& name) const {
  return std::find(index_keys_.begin(), index_keys_.end(), name) != index_keys_.end();
}

bool DynamoItems::TakesCells() const {
  return target_.enrichment.empty() && std::all_of(asked_.begin(), asked_.end(), [&](size_t i) {
           return i < table_.columns.size();
         });
}

const Value* DynamoItems::RowValue(const ItemRows& b, size_t row, const std::string& name) const {
  if (!b.cells) return Field((*b.rows)[row], table_, name);
  for (size_t i = 0; i < asked_.size(); ++i)
    if (table_.columns[asked_[i]].name == name) return &(*b.asked_values)[row * b.stride + i];
  return nullptr;
}

// Embedded children, grouped by the parent value they match: embed.as -> parent -> maps.
Status DynamoItems::Embeds(const ItemRows& b, Grouped* grouped,
                           std::vector<std::string>* warnings) {
  for (const auto& e : target_.embed) {
    std::vector<Value> keys;
    for (size_t row = 0; row < b.size(); ++row)
      if (const Value* v = RowValue(b, row, e.parent_column)) keys.push_back(*v);
    const TableInfo& child = children_[e.table];
    ASSIGN_OR_RETURN(auto rows, lookup_.Lookup(child, e.child_column, keys));
    for (const auto& c : rows)
      if (const Value* v = Field(c, child, e.child_column)) {
        AvText m;
        m.size = AppendRowAsMap(c, child, m.text, warnings);
        (*grouped)[e.as][KeyText(*v)].push_back(std::move(m));
      }
  }
  return Status::Ok();
}

// Rooms: seat counts by type and the total, from the seats table.
Status DynamoItems::RoomSeatCounts(const ItemRows& b, Extras* extras) {
  const TableInfo& seats = children_["seats"];
  std::vector<Value> ids;
  for (const auto& row : (*b.rows)) ids.push_back(*Field(row, table_, "id"));
  ASSIGN_OR_RETURN(auto found, lookup_.Lookup(seats, "room_id", ids));
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const auto& s : found) {
    const Value* type = Field(s, seats, "seat_type");
    counts[KeyText(*Field(s, seats, "room_id"))]
          [type && type->kind() == ValueKind::kString ? type->as<std::string>() : "unknown"]++;
  }
  for (auto& [room, by_type] : counts) {
    J m = J::object();
    int64_t total = 0;
    for (auto& [type, n] : by_type) {
      m[type] = {{"N", std::to_string(n)}};
      total += n;
    }
    (*extras)[room] = {{"seat_counts", {{"M", m}}},
                       {"total_seats", {{"N", std::to_string(total)}}}};
  }
  return Status::Ok();
}

// Movies: their genres' names (and the first as `genre`, the index key), from genres.
Status DynamoItems::MovieGenres(const ItemRows& b, Extras* extras) {
  std::vector<Value> gids;
  for (const auto& row : (*b.rows))
    if (const Value* g = Field(row, table_, "genre_ids"); g && g->kind() == ValueKind::kArray)
      for (const auto& id : g->as<Array>().items) gids.push_back(id);
  ASSIGN_OR_RETURN(auto genres, lookup_.Lookup(children_["genres"], "_id", gids));
  std::map<std::string, std::string> names;
  for (const auto& g : genres) {
    const Document& d = g[0].as<Document>();
    if (const Value* n = d.Find("name"); n && n->kind() == ValueKind::kString)
      names[KeyText(*d.Find("_id"))] = n->as<std::string>();
  }
  for (const auto& row : (*b.rows)) {
    const Value* g = Field(row, table_, "genre_ids");
    if (!g || g->kind() != ValueKind::kArray) continue;
    J list = J::array();
    for (const auto& id : g->as<Array>().items)
      if (names.count(KeyText(id))) list.push_back({{"S", names[KeyText(id)]}});
    J extra = {{"genre_names", {{"L", list}}}};
    if (!list.empty()) extra["genre"] = list[0];
    (*extras)[KeyText(*Field(row, table_, "_id"))] = extra;
  }
  return Status::Ok();
}

std::string DynamoItems::Item(const ItemRows& b, size_t row, const Grouped& grouped,
                              const Extras& extras, std::string* text,
                              std::vector<std::string>* warnings) {
  const Value* key = RowValue(b, row, target_.key_column);
  const bool mongo = table_.engine == Engine::kMongo;  // any _id is a key, null and "" too
  if (!key || (!mongo && (key->is_null() ||
                          (key->kind() == ValueKind::kString && key->as<std::string>().empty()))))
    return "empty key " + target_.key_column;
  key_av_.clear();
  std::string why;
  if (b.cells) {
    AppendCellAsAttributeValue(*b.cells, row, key_index_, key_av_, warnings);
    why = FitKeyAttributeValue(key_av_, key_type_);
  } else {
    why = AppendKeyAttributeValue(table_.engine, *key, key_type_, key_av_);
  }
  if (!why.empty()) return why;
  text->reserve(item_bytes_ + 64);
  // A key's text finds its children and enrichment (only mappings that have them).
  const bool joined = !target_.embed.empty() || !extras.empty();
  const std::string k = joined ? KeyText(*key) : std::string();
  auto extra = extras.find(k);
  const J* added = extra == extras.end() ? nullptr : &extra->second;
  PutRequestText item(*text);
  if (b.cells) {
    for (size_t i = 0; i < table_.columns.size(); ++i)
      if (!replaced_[i] && !(b.cells->null(row, i) && sparse_[i]))
        item.QuotedCell(quoted_[i], table_.columns[i].name.size(), *b.cells, row, i, warnings);
  } else {
    auto column = [&](const std::string& name, const Value& v) {
      if (ReplacedByMapping(name) || (added && added->contains(name))) return;
      if (v.is_null() && IndexKey(name)) return;
      item.Attr(name, v, warnings);
    };
    const std::vector<Value>& values = (*b.rows)[row];
    if (table_.engine == Engine::kMongo) {
      for (const auto& [name, v] : values[0].as<Document>().fields) column(name, v);
    } else {
      for (size_t i = 0; i < table_.columns.size(); ++i) column(table_.columns[i].name, values[i]);
    }
  }
  item.Raw(target_.key_attribute, key_av_, key_av_.size() - 8);  // about the key's bytes
  for (const auto& e : target_.embed) {
    auto by_parent = grouped.find(e.as);
    static const std::vector<AvText> kNone;
    const std::vector<AvText>* list = &kNone;
    if (by_parent != grouped.end())
      if (auto it = by_parent->second.find(k); it != by_parent->second.end()) list = &it->second;
    if (e.many) {
      AvText l{"{\"L\":[", 3};
      for (size_t i = 0; i < list->size(); ++i) {
        if (i) l.text += ',';
        l.text += (*list)[i].text;
        l.size += (*list)[i].size + 1;
      }
      l.text += "]}";
      item.Raw(e.as, l.text, l.size);
    } else if (!list->empty()) {
      item.Raw(e.as, (*list)[0].text, (*list)[0].size);
    } else if (!IndexKey(e.as)) {
      item.Raw(e.as, "{\"NULL\":true}", 1);
    }
  }
  if (added)
    for (const auto& [a, v] : added->items()) item.Raw(a, v.dump(), AttributeValueSize(v));
  item.Close();
  item_bytes_ = text->size();
  if (item.size() > kMaxItemBytes)
    return "item of " + std::to_string(item.size()) + " bytes is over DynamoDB's 400 KB";
  return "";
}

std::string DynamoItems::DeadLetter(const ItemRows& b, size_t row,
                                    const std::string& reason) const {
  const Value* key = RowValue(b, row, target_.key_column);
  // A MongoDB _id as canonical Extended JSON: its type too (an ObjectId, a string, 5 or 5.0).
  const JsonStyle style =
      table_.engine == Engine::kMongo ? JsonStyle::kExtended : JsonStyle::kPlain;
  J letter = {{"reason", reason},
              {"table", EngineName(table_.engine) + "." + table_.name},
              {"key", key ? J::parse(ToJson(*key, style)) : J(nullptr)}};
  return letter.dump() + "\n";
}

Result<ItemBatchResult> DynamoItems::Write(const ItemRows& b, int64_t batch_offset,
                                           const std::function<void(size_t, double)>& on_batch) {
  ItemBatchResult r;
  std::vector<std::string> warnings;
  Grouped grouped;
  RETURN_IF_ERROR(Embeds(b, &grouped, &warnings));
  Extras extras;
  if (target_.enrichment == "room_seat_counts") RETURN_IF_ERROR(RoomSeatCounts(b, &extras));
  if (target_.enrichment == "movie_genres") RETURN_IF_ERROR(MovieGenres(b, &extras));
  std::string dead;  // this batch's dead letters, JSON Lines
  std::vector<std::string> writes;
  std::vector<size_t> rows;  // the row of each write
  for (size_t row = 0; row < b.size(); ++row) {
    std::string text;
    std::string reason = Item(b, row, grouped, extras, &text, &warnings);
    if (reason.empty()) {
      writes.push_back(std::move(text));
      rows.push_back(row);
      continue;
    }
    dead += DeadLetter(b, row, reason);
    r.dead_lettered++;
  }
  r.warnings = static_cast<int64_t>(warnings.size());
  RETURN_IF_ERROR(Flush(b, std::move(writes), rows, std::move(dead), batch_offset, on_batch, &r));
  return r;
}

Status DynamoItems::Flush(const ItemRows& b, std::vector<std::string> writes,
                          const std::vector<size_t>& rows, std::string dead, int64_t batch_offset,
                          const std::function<void(size_t, double)>& on_batch, ItemBatchResult* r) {
  const size_t n = writes.size();
  auto t0 = std::chrono::steady_clock::now();
  auto written = dynamodb_.BatchWriteText(target_.table, std::move(writes));
  if (on_batch)
    on_batch(n, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // The items DynamoDB refused for what they hold join the batch's dead letters.
  if (written.ok()) {
    for (const auto& x : written->rejected) dead += DeadLetter(b, rows[x.index], x.reason);
    r->dead_lettered += static_cast<int64_t>(written->rejected.size());
  }
  // Dead letters are stored whatever became of the batch's write: they are never retried.
  if (!dead.empty()) {
    char name[40];
    std::snprintf(name, sizeof name, "rows-%012lld.jsonl", static_cast<long long>(batch_offset));
    r->dead_letter_key = dead_folder_;
    RETURN_IF_ERROR(store_.Put(dead_folder_ + name, dead, "application/x-ndjson"));
  }
  if (!written.ok()) {
    if (written.status().code() == StatusCode::kNotFound) return written.status();
    r->failed = static_cast<int64_t>(n);  // the batch failed every retry: recorded, go on
    r->error = written.status().message();
    return Status::Ok();
  }
  r->written = static_cast<int64_t>(written->written);
  r->failed = static_cast<int64_t>(written->unprocessed.size());
  if (r->failed)
    r->error = std::to_string(r->failed) + " items still unprocessed after the retries";
  return Status::Ok();
}

Result<Value> LookupValueOfKey(Engine engine, const nlohmann::json& av) {
  if (!av.is_object() || av.size() != 1 || !av.begin()->is_string())
    return InvalidArgument("a key attribute " + av.dump() + " is not an S, N or B value");
  const std::string type = av.begin().key(), text = av.begin()->get<std::string>();
  if (engine == Engine::kMongo) {
    if (type == "S") return ParseMongoKeyText(text);
    if (type == "N") return MongoNumber(text);
    return InvalidArgument(
        "a MongoDB collection whose DynamoDB keys are " + type +
        " cannot be checked by key: the _id's binary subtype is not kept in the key");
  }
  if (type == "S") return Value(text);
  if (type == "N") return Value(Decimal{text});
  if (type == "B") {
    std::string bytes;
    if (!Base64Decode(text, &bytes)) return InvalidArgument("a B key is not base64: " + text);
    return Value(Bytes{std::move(bytes), 0});
  }
  return InvalidArgument("a key attribute of type " + type + " is not an S, N or B value");
}

Status DeleteItemKeys(aws::DynamoDbClient& dynamodb, const std::string& table,
                      const std::string& key_attribute, const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::Ok();
  std::vector<std::string> writes;
  writes.reserve(keys.size());
  for (const auto& key : keys) {
    std::string text = "{\"DeleteRequest\":{\"Key\":{";
    AppendJsonString(key_attribute, text);
    text += ':' + key + "}}}";
    writes.push_back(std::move(text));
  }
  ASSIGN_OR_RETURN(auto r, dynamodb.BatchWriteText(table, std::move(writes)));
  if (!r.unprocessed.empty())
    return Unavailable("DynamoDB " + table + ": " + std::to_string(r.unprocessed.size()) + " of " +
                       std::to_string(keys.size()) + " deletes left unprocessed");
  if (!r.rejected.empty())
    return InvalidArgument("DynamoDB " + table + " refused a delete: " + r.rejected[0].reason);
  return Status::Ok();
}

}  // namespace di
