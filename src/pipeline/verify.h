// Verify: each mapped table's source rows against its DynamoDB items and against its latest
// complete backup — counts and an order-independent content checksum, with the keys that
// differ. Source columns are compared (embedded rows and enrichments are not). Memory: a
// first pass keeps counts and checksums only (constant); only when a side differs does a
// second pass keep a key -> digest map (about 40 bytes a row) to name the keys.
#pragma once

#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "pipeline/migrate.h"
#include "sinks/object_store.h"

namespace di {

struct TableVerification {
  Engine engine = Engine::kMySql;
  std::string table;
  int64_t source_rows = 0;
  int64_t dynamodb_items = -1;  // -1: not compared (table not mapped)
  int64_t backup_rows = -1;     // -1: no complete backup found
  std::string backup_run_id;
  uint64_t source_checksum = 0, dynamodb_checksum = 0, backup_checksum = 0;
  std::vector<std::string> mismatches;  // "missing in DynamoDB: 5", "different in backup: 7"...
  int64_t mismatch_count = 0;
  Status status;  // could not verify at all
  bool ok() const { return status.ok() && mismatch_count == 0; }
};

TableVerification VerifyTable(Source& source, const TableInfo& table,
                              const std::optional<DynamoTarget>& target,
                              aws::DynamoDbClient& dynamodb, ObjectStore& store,
                              const std::string& backup_folder, size_t batch_size);

// The decimal text DynamoDB would keep for an N value ("012.3400" -> "12.34").
std::string CanonicalNumber(const std::string& n);
// A DynamoDB key AttributeValue as verify names it, one name per key DynamoDB holds: an N's
// canonical digits, an S's JSON string, a B's AttributeValue ({"B":"..."}).
std::string DynamoKeyName(const nlohmann::json& av);

}  // namespace di
