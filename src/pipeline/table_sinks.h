// The sinks of a migrate or sync run (sinks/sink.h), one per target of a table: the S3
// backup (BackupWriter's parts and manifest), the DynamoDB items (DynamoItems) and the
// warehouse (a migrate's full load, a sync's upserts). Each owns its encoding, says what it has
// made durable, keeps the counts of its report, and gives a checkpoint a resumed run carries it on
// from.
//
// Like every sink, each is called from one thread at a time (the fan-out's lane); its
// result() is read after the fan-out has ended. Errors are returned from Write and Finish;
// what a sink made durable before an error stays counted.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "pipeline/backup.h"
#include "pipeline/dynamo_items.h"
#include "pipeline/migrate.h"
#include "pipeline/warehouse_load.h"
#include "sinks/sink.h"

namespace di {

// The backup: durable part by part (a part is stored whole when it ends between two
// batches), the manifest written at Finish with the read's high water and the snapshot's
// place in the change log (Open's). Checkpoint: the
// parts stored ({"parts": [...]}); resumed from one, the next part is numbered after them.
class BackupSink : public Sink {
 public:
  BackupSink(ObjectStore& store, const TableInfo& table, const BackupOptions& options,
             const std::string& run_id, const nlohmann::json& resume);
  std::string name() const override { return "backup"; }
  Status Open(const TableInfo& table, const LogPosition& snapshot) override;
  Status Write(const ChangeBatch& batch) override;
  uint64_t Durable() const override { return durable_; }
  Status Finish() override;
  nlohmann::json Checkpoint() const override;
  TableBackup result() const;  // status left to the caller

 private:
  const TableInfo& table_;
  const std::string run_id_;
  BackupWriter writer_;
  std::optional<Position> high_water_;
  std::string manifest_key_;
  uint64_t durable_ = 0, last_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// The DynamoDB items: durable batch by batch, up to the first batch with items that failed
// every retry (no checkpoint moves past it, so the next run writes it again). Checkpoint:
// the counts so far. `offset`: the rows of the table before the first batch it is given
// (dead letters are named by it).
class DynamoSink : public Sink {
 public:
  DynamoSink(Source& lookup, const TableInfo& table, const DynamoTarget& target,
             aws::DynamoDbClient& dynamodb, ObjectStore& store, const std::string& dead_folder,
             int64_t offset, const nlohmann::json& resume,
             std::function<void(size_t items, double seconds)> on_batch);
  std::string name() const override { return "dynamodb:" + target_.table; }
  Status Open(const TableInfo& table, const LogPosition& snapshot) override;
  Status Write(const ChangeBatch& batch) override;
  uint64_t Durable() const override { return durable_; }
  Status Finish() override;
  nlohmann::json Checkpoint() const override { return CountsJson(r_); }
  bool TakesCells() const override { return items_.TakesCells(); }
  TableMigration result() const;  // status left to the caller

  static nlohmann::json CountsJson(const TableMigration& r);
  static void AddCounts(TableMigration& r, const nlohmann::json& counts);

 private:
  const DynamoTarget& target_;
  DynamoItems items_;
  std::function<void(size_t, double)> on_batch_;
  int64_t offset_;
  TableMigration r_;
  std::vector<size_t> asked_;
  std::vector<Value> asked_values_;
  bool failed_ = false;
  uint64_t durable_ = 0, last_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// The warehouse. A migrate's full load (kFullLoad) is one transaction that replaces the
// table, so durable only at Finish (a stopped load is rolled back and a resumed run loads the
// table again). A sync's upserts (kUpsert) go by primary key a batch at a time, each its own
// transaction, durable once it returns; the table is created when missing.
class WarehouseSink : public Sink {
 public:
  enum class Kind { kFullLoad, kUpsert };
  WarehouseSink(std::unique_ptr<Warehouse> warehouse, const TableInfo& table,
                Kind kind = Kind::kFullLoad);
  std::string name() const override { return "warehouse"; }
  Status Open(const TableInfo& table, const LogPosition& snapshot) override;
  Status Write(const ChangeBatch& batch) override;
  uint64_t Durable() const override { return durable_; }
  Status Finish() override;
  WarehouseLoad result() const;  // status left to the caller

 private:
  std::unique_ptr<Warehouse> warehouse_;
  const TableInfo& table_;
  const Kind kind_;
  std::vector<std::vector<Value>> rows_;  // a batch of cells, decoded
  std::optional<Position> high_water_;
  int64_t count_ = 0;
  uint64_t durable_ = 0, last_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace di
