#include "pipeline/state.h"

#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "sinks/dynamo_key.h"

namespace di {
namespace {

using J = nlohmann::json;

J EncodeValue(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kInt64:
      return {{"k", "i64"}, {"v", std::to_string(v.as<int64_t>())}};
    case ValueKind::kUInt64:
      return {{"k", "u64"}, {"v", std::to_string(v.as<uint64_t>())}};
    case ValueKind::kInt32:
      return {{"k", "i32"}, {"v", v.as<Int32>().v}};
    case ValueKind::kDouble:
      return {{"k", "f64"}, {"v", FormatDouble(v.as<double>())}};
    case ValueKind::kString:
      return {{"k", "str"}, {"v", v.as<std::string>()}};
    case ValueKind::kDecimal:
      return {{"k", "dec"}, {"v", v.as<Decimal>().text}};
    case ValueKind::kTimestamp:
      return {{"k", "ts"}, {"v", std::to_string(v.as<Timestamp>().micros)}};
    case ValueKind::kDate:
      return {{"k", "date"}, {"v", v.as<Date>().days}};
    case ValueKind::kBsonDate:
      return {{"k", "bdate"}, {"v", std::to_string(v.as<BsonDate>().millis)}};
    case ValueKind::kObjectId:
      return {{"k", "oid"}, {"v", ObjectIdHex(v.as<ObjectId>())}};
    case ValueKind::kBool:
    case ValueKind::kBytes:
    case ValueKind::kDocument:
    case ValueKind::kArray:
    case ValueKind::kBsonTimestamp:
    case ValueKind::kRegex:
    case ValueKind::kMinKey:
    case ValueKind::kMaxKey:  // the other BSON types (MongoDB keys): Extended JSON
      return {{"k", "ejson"}, {"v", ToJson(v, JsonStyle::kExtended)}};
    default:
      return {{"k", "null"}};
  }
}

Result<Value> DecodeValue(const J& j) {
  std::string k = j.value("k", "");
  try {
    if (k == "i64") return Value(int64_t{std::stoll(j["v"].get<std::string>())});
    if (k == "u64") return Value(uint64_t{std::stoull(j["v"].get<std::string>())});
    if (k == "i32") return Value(Int32{j["v"].get<int32_t>()});
    if (k == "f64") return Value(std::stod(j["v"].get<std::string>()));
    if (k == "str") return Value(j["v"].get<std::string>());
    if (k == "dec") return Value(Decimal{j["v"].get<std::string>()});
    if (k == "ts") return Value(Timestamp{std::stoll(j["v"].get<std::string>())});
    if (k == "date") return Value(Date{j["v"].get<int32_t>()});
    if (k == "bdate") return Value(BsonDate{std::stoll(j["v"].get<std::string>())});
    if (k == "oid") {
      ObjectId id;
      if (ParseObjectId(j["v"].get<std::string>(), &id)) return Value(id);
    }
    if (k == "ejson") {
      auto v = ParseMongoKeyText(j["v"].get<std::string>());
      if (v.ok()) return *v;
    }
    if (k == "null") return Value(Null{});
  } catch (const std::exception&) {
  }
  return Corruption("state table: a watermark value is malformed: " + j.dump());
}

}  // namespace

std::string EncodePosition(const Position& p) {
  J key = J::array();
  for (const auto& k : p.key) key.push_back(EncodeValue(k));
  return J{{"cursor", EncodeValue(p.cursor)}, {"key", key}}.dump();
}

Result<Position> DecodePosition(const std::string& text) {
  J j = J::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("cursor"))
    return Corruption("state table: a watermark is malformed: " + text);
  Position p;
  ASSIGN_OR_RETURN(p.cursor, DecodeValue(j["cursor"]));
  for (const auto& k : j.value("key", J::array())) {
    ASSIGN_OR_RETURN(Value v, DecodeValue(k));
    p.key.push_back(std::move(v));
  }
  return p;
}

std::string WatermarkKey(Engine engine, const std::string& table, const std::string& target) {
  return (target.empty() ? "" : target + ":") + EngineName(engine) + "." + table;
}

// DynamoStateStore

Result<std::optional<Position>> DynamoStateStore::GetWatermark(Engine engine,
                                                               const std::string& table,
                                                               const std::string& target) {
  ASSIGN_OR_RETURN(auto item,
                   ddb_.GetItem(table_, {{"pk", {{"S", "watermark"}}},
                                         {"sk", {{"S", WatermarkKey(engine, table, target)}}}}));
  if (!item) return std::optional<Position>();
  if (!item->contains("position")) return Corruption("state table: watermark without a position");
  ASSIGN_OR_RETURN(Position p, DecodePosition((*item)["position"]["S"].get<std::string>()));
  return std::optional<Position>(std::move(p));
}

Status DynamoStateStore::PutWatermark(Engine engine, const std::string& table, const Position& p,
                                      const std::string& run_id, const std::string& target) {
  return ddb_.PutItem(table_, {{"pk", {{"S", "watermark"}}},
                               {"sk", {{"S", WatermarkKey(engine, table, target)}}},
                               {"position", {{"S", EncodePosition(p)}}},
                               {"run_id", {{"S", run_id}}}});
}

Result<nlohmann::json> DynamoStateStore::GetRun(const std::string& mode) {
  ASSIGN_OR_RETURN(auto item,
                   ddb_.GetItem(table_, {{"pk", {{"S", "run"}}}, {"sk", {{"S", mode}}}}));
  if (!item || !item->contains("run_id") || !item->contains("state")) return nlohmann::json();
  return nlohmann::json{{"run_id", (*item)["run_id"]["S"]}, {"state", (*item)["state"]["S"]}};
}

Status DynamoStateStore::PutRun(const std::string& mode, const std::string& run_id,
                                const std::string& state) {
  return ddb_.PutItem(table_, {{"pk", {{"S", "run"}}},
                               {"sk", {{"S", mode}}},
                               {"run_id", {{"S", run_id}}},
                               {"state", {{"S", state}}}});
}

Result<nlohmann::json> DynamoStateStore::GetRecord(const std::string& pk, const std::string& sk) {
  ASSIGN_OR_RETURN(auto item, ddb_.GetItem(table_, {{"pk", {{"S", pk}}}, {"sk", {{"S", sk}}}}));
  if (!item || !item->contains("record")) return nlohmann::json();
  auto record = nlohmann::json::parse((*item)["record"]["S"].get<std::string>(), nullptr, false);
  if (record.is_discarded()) return Corruption("state table: " + pk + " " + sk + " is not JSON");
  return record;
}

Status DynamoStateStore::PutRecord(const std::string& pk, const std::string& sk,
                                   const nlohmann::json& record) {
  return ddb_.PutItem(
      table_, {{"pk", {{"S", pk}}}, {"sk", {{"S", sk}}}, {"record", {{"S", record.dump()}}}});
}

Result<nlohmann::json> DynamoStateStore::GetTask(const std::string& run_id,
                                                 const std::string& task) {
  return GetRecord("run#" + run_id, task);
}

Status DynamoStateStore::PutTask(const std::string& run_id, const std::string& task,
                                 const nlohmann::json& record) {
  return PutRecord("run#" + run_id, task, record);
}

Result<nlohmann::json> DynamoStateStore::GetSnapshot(Engine engine, const std::string& table) {
  return GetRecord("snapshot", EngineName(engine) + "." + table);
}

Status DynamoStateStore::PutSnapshot(Engine engine, const std::string& table,
                                     const nlohmann::json& record) {
  return PutRecord("snapshot", EngineName(engine) + "." + table, record);
}

Status DynamoStateStore::Check() {
  auto t = ddb_.DescribeTable(table_);
  return t.ok() ? Status::Ok() : t.status();
}

// MemoryStateStore

nlohmann::json MemoryStateStore::Get(const std::string& pk, const std::string& sk) {
  std::lock_guard lock(mu_);
  auto it = records_.find(pk + "\n" + sk);
  return it == records_.end() ? nlohmann::json() : it->second;
}

void MemoryStateStore::Put(const std::string& pk, const std::string& sk, nlohmann::json record) {
  std::lock_guard lock(mu_);
  records_[pk + "\n" + sk] = std::move(record);
}

std::map<std::string, nlohmann::json> MemoryStateStore::Records() {
  std::lock_guard lock(mu_);
  return records_;
}

Result<std::optional<Position>> MemoryStateStore::GetWatermark(Engine engine,
                                                               const std::string& table,
                                                               const std::string& target) {
  nlohmann::json r = Get("watermark", WatermarkKey(engine, table, target));
  if (r.is_null()) return std::optional<Position>();
  ASSIGN_OR_RETURN(Position p, DecodePosition(r["position"].get<std::string>()));
  return std::optional<Position>(std::move(p));
}

Status MemoryStateStore::PutWatermark(Engine engine, const std::string& table, const Position& p,
                                      const std::string& run_id, const std::string& target) {
  Put("watermark", WatermarkKey(engine, table, target),
      {{"position", EncodePosition(p)}, {"run_id", run_id}});
  return Status::Ok();
}

Result<nlohmann::json> MemoryStateStore::GetRun(const std::string& mode) {
  return Get("run", mode);
}

Status MemoryStateStore::PutRun(const std::string& mode, const std::string& run_id,
                                const std::string& state) {
  Put("run", mode, {{"run_id", run_id}, {"state", state}});
  return Status::Ok();
}

Result<nlohmann::json> MemoryStateStore::GetSnapshot(Engine engine, const std::string& table) {
  return Get("snapshot", EngineName(engine) + "." + table);
}

Status MemoryStateStore::PutSnapshot(Engine engine, const std::string& table,
                                     const nlohmann::json& record) {
  Put("snapshot", EngineName(engine) + "." + table, record);
  return Status::Ok();
}

Result<nlohmann::json> MemoryStateStore::GetTask(const std::string& run_id,
                                                 const std::string& task) {
  return Get("run#" + run_id, task);
}

Status MemoryStateStore::PutTask(const std::string& run_id, const std::string& task,
                                 const nlohmann::json& record) {
  Put("run#" + run_id, task, record);
  return Status::Ok();
}

}  // namespace di
