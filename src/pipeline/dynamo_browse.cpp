#include "pipeline/dynamo_browse.h"

namespace di {

nlohmann::json DescribeDynamoTargets(aws::DynamoDbClient& dynamodb,
                                     const std::vector<TableMapping>& mapping) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& m : mapping) {
    if (!m.dynamodb) continue;
    nlohmann::json t = {{"name", m.dynamodb->table}, {"source", m.Name()}};
    auto d = dynamodb.DescribeTable(m.dynamodb->table);
    if (d.ok()) {
      const nlohmann::json& table = *d;
      auto status = table.find("TableStatus");
      auto count = table.find("ItemCount");
      t["status"] =
          status != table.end() && status->is_string() ? *status : nlohmann::json("UNKNOWN");
      t["item_count"] =
          count != table.end() && count->is_number_integer() ? *count : nlohmann::json(0);
    } else {
      t["status"] = d.status().code() == StatusCode::kNotFound ? "MISSING" : "UNKNOWN";
      t["error"] = d.status().message();
    }
    tables.push_back(t);
  }
  return tables;
}

Result<aws::Page> BrowseDynamoItems(aws::DynamoDbClient& dynamodb,
                                    const std::vector<TableMapping>& mapping,
                                    const std::string& name, int limit,
                                    const nlohmann::json& start) {
  bool known = false;
  for (const auto& m : mapping) known = known || (m.dynamodb && m.dynamodb->table == name);
  if (!known) return NotFound("'" + name + "' is not a mapped DynamoDB table");
  return dynamodb.Scan(name, limit, start);
}

}  // namespace di
