#include "pipeline/sync_deletes.h"

#include <set>

#include "pipeline/dynamo_items.h"
#include "pipeline/verify.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr int kPage = 1000;  // items scanned, and keys looked up, at a time

// One page of scanned items: the keys whose rows the source no longer has, as scanned
// (AttributeValue texts).
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
    if (!found.count(DynamoKeyName(*av))) gone.push_back(av->dump());
  }
  return gone;
}

}  // namespace

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
    RETURN_IF_ERROR(DeleteItemKeys(dynamodb, target.table, target.key_attribute, gone));
    r.deleted += static_cast<int64_t>(gone.size());
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
