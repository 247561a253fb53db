// DynamoDbClient: the DynamoDB calls the service uses (JSON 1.0 protocol) on AwsClient.
// Items and keys are DynamoDB JSON (AttributeValue maps) as nlohmann::json. A missing table
// says to run `--mode setup`. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"

namespace di::aws {

using Json = nlohmann::json;

struct KeyAttribute {
  std::string name;
  std::string type;  // "S", "N" or "B"
};

struct IndexSpec {
  std::string name;
  KeyAttribute hash;
  std::optional<KeyAttribute> range;
};

struct TableSpec {
  std::string name;
  KeyAttribute hash;
  std::optional<KeyAttribute> range;
  std::vector<IndexSpec> global_indexes;
};

struct WriteRequest {
  Json put_item;    // an item to put, or null
  Json delete_key;  // a key to delete, or null
};

// A request DynamoDB refused for what it holds (its index among the requests given) and
// DynamoDB's reason: a key of the wrong type or empty, an item over 400 KB, a number out of
// range, an empty set... Never written; the other requests are.
struct RejectedWrite {
  size_t index = 0;
  std::string reason;
};

struct BatchWriteResult {
  size_t written = 0;
  std::vector<WriteRequest> unprocessed;  // still refused when the attempts ran out
  std::vector<RejectedWrite> rejected;    // refused for what they hold, in no set order
  int resends = 0;                        // UnprocessedItems rounds
};

struct Page {
  std::vector<Json> items;
  Json last_evaluated_key;  // null on the last page
  int64_t count = 0;
};

class DynamoDbClient {
 public:
  explicit DynamoDbClient(std::shared_ptr<AwsClient> client, Clock& clock = SystemClock())
      : client_(std::move(client)), clock_(clock) {}

  // true when created, false when a table of that name already existed.
  Result<bool> CreateTable(const TableSpec& spec);
  Result<Json> DescribeTable(const std::string& table);
  // Polls DescribeTable until the table and its indexes are ACTIVE.
  Status WaitUntilActive(const std::string& table, std::chrono::seconds timeout);
  Result<std::vector<std::string>> ListTables(int page_size = 100);
  Status DeleteTable(const std::string& table);

  // Writes in requests of at most 25 items and 16 MB, resending UnprocessedItems with
  // backoff until none are left or the client's attempts run out. A request DynamoDB refuses
  // whole for what one of its items holds (ValidationException,
  // ItemCollectionSizeLimitExceededException) is split in halves and each sent apart, down
  // to the single item, which is then `rejected` with DynamoDB's reason: every other item is
  // written. Any other error (the table missing, access denied, the retries spent) fails the
  // call.
  Result<BatchWriteResult> BatchWrite(const std::string& table, std::vector<WriteRequest> requests);
  // The same for requests already written as JSON text, each a WriteRequest
  // ({"PutRequest":{"Item":{...}}} or {"DeleteRequest":{"Key":{...}}}): the migration's path,
  // no JSON tree per item. Up to write_concurrency() BatchWriteItem requests are in flight at
  // once (DynamoDB answers each in milliseconds; one at a time would leave the client idle).
  Result<BatchWriteResult> BatchWriteText(const std::string& table,
                                          std::vector<std::string> requests);
  Status PutItem(const std::string& table, const Json& item);
  Result<std::optional<Json>> GetItem(const std::string& table, const Json& key,
                                      bool consistent = true);
  // `request` is a Query request without TableName (KeyConditionExpression, IndexName,
  // ExpressionAttributeValues, ExclusiveStartKey, Limit...).
  Result<Page> Query(const std::string& table, Json request);
  Result<Page> Scan(const std::string& table, int limit, const Json& exclusive_start_key = nullptr);

  // One call of the JSON protocol: {"TableName"...} in, the answer out; errors as Status.
  Result<Json> Call(const std::string& operation, const Json& body, const std::string& table = "");
  Result<Json> CallText(const std::string& operation, std::string body,
                        const std::string& table = "");
  // The type ("S", "N" or "B") of `table`'s partition key, from DescribeTable.
  Result<std::string> PartitionKeyType(const std::string& table);

  AwsClient& client() { return *client_; }
  int write_concurrency() const { return write_concurrency_; }
  void set_write_concurrency(int n) { write_concurrency_ = n; }

 private:
  // Writes requests[idx...] as one BatchWriteItem (after `head`), split in halves while
  // DynamoDB refuses it for what an item holds (BatchWrite); counts into `out`.
  Status WriteItems(const std::string& table, const std::string& head,
                    const std::vector<std::string>& requests, const size_t* idx, size_t n,
                    BatchWriteResult* out);
  // One BatchWriteItem `body` of n items and the resends of its UnprocessedItems; `refused`:
  // DynamoDB refused the first send whole for what an item holds (nothing of it written).
  Status SendBatch(const std::string& table, std::string body, size_t n, BatchWriteResult* out,
                   bool* refused);

  std::shared_ptr<AwsClient> client_;
  Clock& clock_;
  int write_concurrency_ = 4;
};

AwsError ParseDynamoError(const HttpResponse& response);

}  // namespace di::aws
