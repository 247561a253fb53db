// StateStore: sync watermarks and run checkpoints in the DynamoDB state table, so any
// instance can carry on where another stopped.
//   pk "watermark", sk "<engine>.<table>"            DynamoDB sync position
//   pk "watermark", sk "warehouse:<engine>.<table>"  warehouse sync position
//   pk "run", sk "<mode>"                            the last run of a mode: id, state
//   pk "run#<run-id>", sk "<task>"                   a task's checkpoint or its result
//   pk "snapshot", sk "<engine>.<table>"             the last migrate's snapshot position Positions
//   are
// stored with their value kinds, so a resumed keyset read compares like with like.
// Thread-safe (one DynamoDB request per call).
#pragma once

#include <optional>
#include <string>

#include "aws/dynamodb_client.h"
#include "sources/source.h"

namespace di {

std::string EncodePosition(const Position& p);
Result<Position> DecodePosition(const std::string& text);

class StateStore {
 public:
  StateStore(aws::DynamoDbClient& dynamodb, std::string table)
      : ddb_(dynamodb), table_(std::move(table)) {}
  // `target`: "" for DynamoDB, "warehouse" for the warehouse.
  Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table,
                                               const std::string& target = "");
  Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                      const std::string& run_id, const std::string& target = "");

  // The last run of `mode` ("migrate"): {"run_id", "state": "running" | "done"}; null when none.
  Result<nlohmann::json> GetRun(const std::string& mode);
  Status PutRun(const std::string& mode, const std::string& run_id, const std::string& state);
  // The change-log position of the last whole snapshot of a table (a migrate's read), where
  // change capture starts: {"run_id", "snapshot": LogPositionJson}; null when none.
  Result<nlohmann::json> GetSnapshot(Engine engine, const std::string& table);
  Status PutSnapshot(Engine engine, const std::string& table, const nlohmann::json& record);
  // A task's record within a run (plain JSON, stored as one string attribute); null when none.
  Result<nlohmann::json> GetTask(const std::string& run_id, const std::string& task);
  Status PutTask(const std::string& run_id, const std::string& task, const nlohmann::json& record);

 private:
  aws::DynamoDbClient& ddb_;
  std::string table_;
};

}  // namespace di
