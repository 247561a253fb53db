// StateStore: sync watermarks in the DynamoDB state table (pk "watermark", sk
// "<engine>.<table>"), so any instance can carry on where another stopped. Positions are
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
  Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table);
  Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                      const std::string& run_id);

 private:
  aws::DynamoDbClient& ddb_;
  std::string table_;
};

}  // namespace di
