// DynamoItems: the DynamoDB items of one mapped table (docs/dynamodb-mapping.md) — each row's
// attributes (from its cells or its Values), the mapping's key, embedded child rows and the
// built-in enrichments looked up on a second connection — written a batch at a time as
// idempotent BatchWriteItem upserts. The key is the table's type (sinks/dynamo_key.h). An item
// that cannot be written — over 400 KB, a key that is empty or does not fit the table's key
// type, or any item DynamoDB refuses for what it holds — goes to a dead-letter object with its
// reason and its key, and the rest of its batch is written; items of a write that failed every
// retry are counted, never lost silently. One per table read; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "pipeline/mapping.h"
#include "sinks/object_store.h"
#include "sources/source.h"

namespace di {

// A row's field by name (MongoDB: a top-level document field); null when absent.
const Value* Field(const std::vector<Value>& row, const TableInfo& t, const std::string& name);
// A row as a DynamoDB map attribute ({"M":{...}}, one attribute per column or document field)
// appended as JSON text; returns its size as DynamoDB counts it.
size_t AppendRowAsMap(const std::vector<Value>& row, const TableInfo& t, std::string& out,
                      std::vector<std::string>* warnings);
// The same attribute map as a tree (verify).
nlohmann::json RowToMap(const std::vector<Value>& row, const TableInfo& t,
                        std::vector<std::string>* warnings);

// A key AttributeValue read back from a table (a scan's item) as the value to look its row
// up by in a table of `engine`: SQL S as text, N as a Decimal, B as bytes; MongoDB S as the
// `_id` its text stands for (ParseMongoKeyText), N as a number. InvalidArgument for one that
// cannot be looked up exactly (a MongoDB binary `_id`: B keeps no subtype), never a guess.
Result<Value> LookupValueOfKey(Engine engine, const nlohmann::json& av);
// The items of `table` whose keys (AttributeValue texts, {"N":"5"}) are `keys` deleted, in
// BatchWriteItem requests; an error when any delete is left unprocessed or refused.
Status DeleteItemKeys(aws::DynamoDbClient& dynamodb, const std::string& table,
                      const std::string& key_attribute, const std::vector<std::string>& keys);

// One batch as DynamoItems takes it: the rows' Values, or their cells with the values of
// DynamoItems::asked() for each row (`stride` values a row, asked() first).
struct ItemRows {
  const std::vector<std::vector<Value>>* rows = nullptr;
  const CellBatch* cells = nullptr;
  const std::vector<Value>* asked_values = nullptr;
  size_t stride = 0;
  size_t size() const { return cells ? cells->rows() : rows->size(); }
};

struct ItemBatchResult {
  int64_t written = 0;
  int64_t dead_lettered = 0;
  int64_t failed = 0;  // items of a write that failed every retry, or left unprocessed
  int64_t warnings = 0;
  std::string error;            // why items failed
  std::string dead_letter_key;  // the folder, when this batch wrote dead letters
};

class DynamoItems {
 public:
  // Dead letters of the batch starting at row N go to "<dead_folder>rows-<N>.jsonl".
  DynamoItems(Source& lookup, const TableInfo& table, const DynamoTarget& target,
              aws::DynamoDbClient& dynamodb, ObjectStore& store, std::string dead_folder);
  // Describes the child and enrichment tables, and the DynamoDB table's key type when neither
  // the mapping nor the source says it (KnownKeyType; a missing table: NotFound, run setup).
  Status Open();
  // The columns whose values a batch of cells must come with: the key, the embeds' parents.
  const std::vector<size_t>& asked() const { return asked_; }
  // The AttributeValue (JSON text) `key` is written as in the table (after Open), or ""
  // when it cannot be one of its keys.
  std::string KeyAttributeValue(const Value& key) const;
  // Whether batches may come as cells: no enrichment, and every asked column is in the table.
  bool TakesCells() const;
  // Writes one batch; an error is one the run cannot go on after (a lookup failed, the table
  // is missing, a dead letter could not be stored). `on_batch`: the BatchWriteItem's items
  // and seconds.
  Result<ItemBatchResult> Write(const ItemRows& batch, int64_t batch_offset,
                                const std::function<void(size_t, double)>& on_batch);

 private:
  struct AvText {  // an AttributeValue as JSON text with its DynamoDB size
    std::string text;
    size_t size = 0;
  };
  using Grouped = std::map<std::string, std::map<std::string, std::vector<AvText>>>;
  using Extras = std::map<std::string, nlohmann::json>;  // parent key -> extra attributes

  const Value* RowValue(const ItemRows& b, size_t row, const std::string& name) const;
  bool ReplacedByMapping(const std::string& name) const;
  bool IndexKey(const std::string& name) const;  // sparse: never written as NULL
  Status Embeds(const ItemRows& b, Grouped* grouped, std::vector<std::string>* warnings);
  Status RoomSeatCounts(const ItemRows& b, Extras* extras);
  Status MovieGenres(const ItemRows& b, Extras* extras);
  // Row `row`'s PutRequest into `text`, or the reason it cannot be written.
  std::string Item(const ItemRows& b, size_t row, const Grouped& grouped, const Extras& extras,
                   std::string* text, std::vector<std::string>* warnings);
  // Row `row`'s dead letter, a JSON line: the reason, the table, the key.
  std::string DeadLetter(const ItemRows& b, size_t row, const std::string& reason) const;
  // Sends the batch's items (`rows`: the row of each) and stores its dead letters: `dead`
  // and the items DynamoDB refused.
  Status Flush(const ItemRows& b, std::vector<std::string> writes, const std::vector<size_t>& rows,
               std::string dead, int64_t batch_offset,
               const std::function<void(size_t, double)>& on_batch, ItemBatchResult* r);

  Source& lookup_;
  const TableInfo& table_;
  const DynamoTarget& target_;
  aws::DynamoDbClient& dynamodb_;
  ObjectStore& store_;
  const std::string dead_folder_;
  std::map<std::string, TableInfo> children_;  // embedded and enrichment tables
  std::vector<size_t> asked_;
  size_t key_index_ = 0;
  std::string key_type_;  // the table's partition key type: KnownKeyType, else DynamoDB's
  std::string key_av_;    // the row's key AttributeValue (reused)
  std::vector<std::string> index_keys_;
  // Per column: left out of the item (an attribute of the mapping has its name) or, when
  // NULL, left out (a sparse index key); its quoted name `"name":`.
  std::vector<char> replaced_, sparse_;
  std::vector<std::string> quoted_;
  size_t item_bytes_ = 256;  // the last item's text: room reserved for the next one
};

}  // namespace di
