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
      nlohmann::json table = (*d).contains("Table") ? (*d)["Table"] : *d;
      t["status"] = table.value("TableStatus", "UNKNOWN");
      t["item_count"] = table.value("ItemCount", int64_t{0});
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
