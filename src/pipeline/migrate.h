// `sync`'s read loop into DynamoDB (a migrate's full load goes through pipeline/table_run.h
// and the DynamoDB sink): the cinema mapping (docs/dynamodb-mapping.md) — movies with their genre
// names, rooms with seat counts by type, reservations with their reserved seats and payment
// embedded, users — written as idempotent upserts by key. An item that cannot be written
// (over 400 KB, empty key) goes to a dead-letter object with the reason; a batch that still
// fails after its retries is counted and the run ends PARTIAL. Memory: one batch.
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
};

struct MigrateOptions {
  size_t batch_size = 1000;
  std::string run_id;
  // Dead letters go to "<prefix><engine>.<table>/rows-<offset>.jsonl", one object per batch
  // that has some, written before the batch's checkpoint so a resumed run keeps them.
  std::string dead_letter_prefix;  // "<analytics>/dead_letters/<run-id>/"
  // Incremental reads (sync) give the rows after `after` in (cursor, key) order. After each
  // batch whose items are all written (or dead-lettered), `checkpoint` gets the batch's last
  // position and the counts so far; after a batch with failed items no checkpoint moves, so
  // the next run starts again from the last good one and loses nothing.
  bool incremental = false;
  std::optional<Position> after;
  std::function<Status(const Position&, const TableMigration& so_far)> checkpoint;
  // Stops the table at its first failed batch (else it is recorded and the read goes on,
  // with no checkpoint after it).
  bool stop_on_failure = false;
  std::function<void(int64_t rows)> on_progress;               // after each batch
  std::function<void(size_t items, double seconds)> on_batch;  // each BatchWrite's latency
  // Set: stop before the next batch (the last one is written and checkpointed).
  const std::atomic<bool>* stop = nullptr;
};

// `lookup` is a second connection to the same database: the main read streams on `source`
// while child rows and enrichments are looked up on `lookup`.
TableMigration MigrateTable(Source& source, Source& lookup, const TableInfo& table,
                            const DynamoTarget& target, aws::DynamoDbClient& dynamodb,
                            ObjectStore& store, const MigrateOptions& options);

}  // namespace di
