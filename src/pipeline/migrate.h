// The result of a table's writes into DynamoDB in a migrate or sync (the DynamoDB sink,
// pipeline/table_sinks.h): the cinema mapping (docs/dynamodb-mapping.md) — movies with their
// genre names, rooms with seat counts by type, reservations with their reserved seats and
// payment embedded, users — written as idempotent upserts by key. An item that cannot be
// written (over 400 KB, empty key) goes to a dead-letter object with the reason; a batch that
// still fails after its retries is counted and the run ends PARTIAL.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "pipeline/dynamo_items.h"
#include "pipeline/mapping.h"
#include "sinks/object_store.h"
#include "sources/source.h"

namespace di {

struct TableMigration {
  Engine engine = Engine::kMySql;
  std::string table;
  std::string target;
  int64_t rows = 0;
  int64_t written = 0;
  int64_t dead_lettered = 0;
  int64_t failed = 0;  // items of batches that failed every retry
  int64_t warnings = 0;
  double seconds = 0;
  std::string dead_letter_key;
  std::string last_batch_error;  // why the last failed batch failed
  // The greatest (cursor, key) position read (a later sync starts after it); unset when the
  // table has no usable change column.
  std::optional<Position> high_water;
  Status status;  // non-OK: the table could not be migrated at all
  // SYNC_DELETES: the items whose row was gone, deleted.
  std::optional<int64_t> deleted = std::nullopt;
};

}  // namespace di
