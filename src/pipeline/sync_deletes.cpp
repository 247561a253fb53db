#include "pipeline/sync_deletes.h"

#include <cmath>
#include <set>

#include "core/json_encode.h"
#include "core/strings.h"
#include "pipeline/dynamo_items.h"
#include "pipeline/verify.h"
#include "sinks/dynamo_key.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr int kPage = 1000;  // items scanned, and keys looked up, at a time

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

// One page of scanned items: the keys whose rows the source no longer has, as written
// (DeleteRequest texts).
Result<std::vector<std::string>> GoneOfPage(Source& source, const TableInfo& info,
                                            const TableMapping& m, const DynamoItems& items,
                                            const std::vector<J>& page) {
  const DynamoTarget& target = *m.dynamodb;
  std::vector<Value> keys;
  std::vector<const J*> avs;
  for (const auto& item : page) {
    auto it = item.find(target.key_attribute);
    if (it == item.end())
      return InvalidArgument("DynamoDB " + target.table + ": an item has no key attribute " +
                             target.key_attribute);
    ASSIGN_OR_RETURN(Value v, LookupValueOfKey(info.engine, *it));
    keys.push_back(std::move(v));
    avs.push_back(&*it);
  }
  ASSIGN_OR_RETURN(auto rows, source.Lookup(info, target.key_column, keys));
  std::set<std::string> found;  // the rows' keys as DynamoDB names them
  for (const auto& row : rows) {
    const Value* v = Field(row, info, target.key_column);
    const std::string av = v ? items.KeyAttributeValue(*v) : "";
    if (!av.empty()) found.insert(DynamoKeyName(J::parse(av)));
  }
  std::vector<std::string> gone;
  for (const J* av : avs) {
    if (found.count(DynamoKeyName(*av))) continue;
    std::string text = "{\"DeleteRequest\":{\"Key\":{";
    AppendJsonString(target.key_attribute, text);
    text += ':' + av->dump() + "}}}";
    gone.push_back(std::move(text));
  }
  return gone;
}

Status DeleteItems(aws::DynamoDbClient& dynamodb, const std::string& table,
                   std::vector<std::string> deletes) {
  if (deletes.empty()) return Status::Ok();
  const size_t n = deletes.size();
  ASSIGN_OR_RETURN(auto r, dynamodb.BatchWriteText(table, std::move(deletes)));
  if (!r.unprocessed.empty())
    return Unavailable("DynamoDB " + table + ": " + std::to_string(r.unprocessed.size()) + " of " +
                       std::to_string(n) + " deletes left unprocessed");
  if (!r.rejected.empty())
    return InvalidArgument("DynamoDB " + table + " refused a delete: " + r.rejected[0].reason);
  return Status::Ok();
}

}  // namespace

Result<Value> LookupValueOfKey(Engine engine, const J& av) {
  if (!av.is_object() || av.size() != 1 || !av.begin()->is_string())
    return InvalidArgument("a key attribute " + av.dump() + " is not an S, N or B value");
  const std::string type = av.begin().key(), text = av.begin()->get<std::string>();
  if (engine == Engine::kMongo) {
    if (type == "S") return ParseMongoKeyText(text);
    if (type == "N") return MongoNumber(text);
    return InvalidArgument(
        "a MongoDB collection whose DynamoDB keys are " + type +
        " cannot be checked for deletes: the _id's binary subtype is not kept in the key");
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

Result<GoneDeleted> DeleteGoneItems(Source& source, const TableInfo& info, const TableMapping& m,
                                    aws::DynamoDbClient& dynamodb, ObjectStore& store,
                                    const std::atomic<bool>* stop) {
  const DynamoTarget& target = *m.dynamodb;
  DynamoItems items(source, info, target, dynamodb, store, "");
  RETURN_IF_ERROR(items.Open());
  GoneDeleted r;
  J start = nullptr;
  do {
    if (stop && stop->load())
      return Aborted("stopped after " + std::to_string(r.checked) + " items of " + target.table +
                     " were checked for deletes");
    ASSIGN_OR_RETURN(auto page, dynamodb.Scan(target.table, kPage, start));
    ASSIGN_OR_RETURN(auto gone, GoneOfPage(source, info, m, items, page.items));
    r.checked += static_cast<int64_t>(page.items.size());
    const auto n = static_cast<int64_t>(gone.size());
    RETURN_IF_ERROR(DeleteItems(dynamodb, target.table, std::move(gone)));
    r.deleted += n;
    start = page.last_evaluated_key;
  } while (!start.is_null());
  return r;
}

// Counts the rows a reader gives, for the report.
class CountingReader : public RowReader {
 public:
  explicit CountingReader(RowReader& inner) : inner_(inner) {}
  Result<bool> Next(RecordBatch* batch) override {
    ASSIGN_OR_RETURN(bool more, inner_.Next(batch));
    rows += static_cast<int64_t>(batch->rows.size());
    return more;
  }
  int64_t rows = 0;

 private:
  RowReader& inner_;
};

Result<GoneDeleted> DeleteGoneRows(Source& source, const TableInfo& info, Warehouse& warehouse,
                                   size_t batch_size) {
  ReadOptions o;
  o.batch_size = batch_size;
  // In key order: a keyset read of a table that changes meanwhile misses no row that is there
  // throughout (an unordered pass of a MongoDB collection would not say so).
  o.by_key = true;
  RETURN_IF_ERROR(CheckKeysetRead("deleting the rows gone from " + info.name, info, o));
  ASSIGN_OR_RETURN(auto reader, source.Read(info, o));
  CountingReader counted(*reader);
  GoneDeleted r;
  ASSIGN_OR_RETURN(r.deleted, warehouse.DeleteAllBut(info, counted));
  r.checked = counted.rows;
  return r;
}

}  // namespace di
