// StateStore: sync watermarks and run checkpoints, kept where any instance can carry on where
// another stopped — the DynamoDB state table (DynamoStateStore) in production, memory
// (MemoryStateStore) in tests. Items of the state table (docs/dynamodb-mapping.md):
//   pk "watermark", sk "<engine>.<table>"            DynamoDB sync position
//   pk "watermark", sk "warehouse:<engine>.<table>"  warehouse sync position
//   pk "run", sk "<mode>"                            the last run of a mode: id, state
//   pk "run#<run-id>", sk "<task>"                   a task's checkpoint or its result
//   pk "snapshot", sk "<engine>.<table>"             the last migrate's snapshot position
// Positions are stored with their value kinds, so a resumed keyset read compares like with
// like. Every implementation is thread-safe; a failed write is an error the caller sees (a
// checkpoint not stored is not moved on from).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "aws/dynamodb_client.h"
#include "sources/source.h"

namespace di {

std::string EncodePosition(const Position& p);
Result<Position> DecodePosition(const std::string& text);

class StateStore {
 public:
  virtual ~StateStore() = default;
  // `target`: "" for DynamoDB, "warehouse" for the warehouse.
  virtual Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table,
                                                       const std::string& target = "") = 0;
  virtual Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                              const std::string& run_id, const std::string& target = "") = 0;
  // The last run of `mode` ("migrate"): {"run_id", "state": "running" | "done"}; null when none.
  virtual Result<nlohmann::json> GetRun(const std::string& mode) = 0;
  virtual Status PutRun(const std::string& mode, const std::string& run_id,
                        const std::string& state) = 0;
  // The change-log position of the last whole snapshot of a table (a migrate's read), where
  // change capture starts: {"run_id", "snapshot": LogPositionJson}; null when none.
  virtual Result<nlohmann::json> GetSnapshot(Engine engine, const std::string& table) = 0;
  virtual Status PutSnapshot(Engine engine, const std::string& table,
                             const nlohmann::json& record) = 0;
  // A task's record within a run (plain JSON); null when none.
  virtual Result<nlohmann::json> GetTask(const std::string& run_id, const std::string& task) = 0;
  virtual Status PutTask(const std::string& run_id, const std::string& task,
                         const nlohmann::json& record) = 0;
  // Whether the store answers (the health check): its table exists and can be read.
  virtual Status Check() = 0;
};

// The state table in DynamoDB: one item per record (a task's record stored as one string
// attribute). One request per call.
class DynamoStateStore : public StateStore {
 public:
  DynamoStateStore(aws::DynamoDbClient& dynamodb, std::string table)
      : ddb_(dynamodb), table_(std::move(table)) {}
  Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table,
                                               const std::string& target = "") override;
  Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                      const std::string& run_id, const std::string& target = "") override;
  Result<nlohmann::json> GetRun(const std::string& mode) override;
  Status PutRun(const std::string& mode, const std::string& run_id,
                const std::string& state) override;
  Result<nlohmann::json> GetSnapshot(Engine engine, const std::string& table) override;
  Status PutSnapshot(Engine engine, const std::string& table,
                     const nlohmann::json& record) override;
  Result<nlohmann::json> GetTask(const std::string& run_id, const std::string& task) override;
  Status PutTask(const std::string& run_id, const std::string& task,
                 const nlohmann::json& record) override;
  Status Check() override;

 private:
  Result<nlohmann::json> GetRecord(const std::string& pk, const std::string& sk);
  Status PutRecord(const std::string& pk, const std::string& sk, const nlohmann::json& record);
  aws::DynamoDbClient& ddb_;
  std::string table_;
};

// Records in memory, keyed as in the state table (watermarks stored encoded, so they go
// through the same encoding as in DynamoDB). For tests; lost with the process.
class MemoryStateStore : public StateStore {
 public:
  Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table,
                                               const std::string& target = "") override;
  Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                      const std::string& run_id, const std::string& target = "") override;
  Result<nlohmann::json> GetRun(const std::string& mode) override;
  Status PutRun(const std::string& mode, const std::string& run_id,
                const std::string& state) override;
  Result<nlohmann::json> GetSnapshot(Engine engine, const std::string& table) override;
  Status PutSnapshot(Engine engine, const std::string& table,
                     const nlohmann::json& record) override;
  Result<nlohmann::json> GetTask(const std::string& run_id, const std::string& task) override;
  Status PutTask(const std::string& run_id, const std::string& task,
                 const nlohmann::json& record) override;
  Status Check() override { return Status::Ok(); }
  // Every record, "pk\nsk" -> record (a copy).
  std::map<std::string, nlohmann::json> Records();

 private:
  nlohmann::json Get(const std::string& pk, const std::string& sk);
  void Put(const std::string& pk, const std::string& sk, nlohmann::json record);
  std::mutex mu_;
  std::map<std::string, nlohmann::json> records_;
};

// "<target>:<engine>.<table>" ("<engine>.<table>" for DynamoDB): a watermark's sort key.
std::string WatermarkKey(Engine engine, const std::string& table, const std::string& target);

}  // namespace di
