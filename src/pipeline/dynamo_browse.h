// What the API shows of the mapped DynamoDB tables (docs/api.md, GET /dynamodb/…): each
// one's status and item count, and pages of its items. Only tables of the mapping are shown;
// any other name is NotFound. Thread-safe (one DynamoDB request per table or page).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "pipeline/mapping.h"

namespace di {

// [{"name", "source", "status" (ACTIVE…, MISSING, UNKNOWN), "item_count", "error"?}, …]
nlohmann::json DescribeDynamoTargets(aws::DynamoDbClient& dynamodb,
                                     const std::vector<TableMapping>& mapping);

// Up to `limit` items of the mapped table `name` after `start` (a page's last key; null:
// from the beginning).
Result<aws::Page> BrowseDynamoItems(aws::DynamoDbClient& dynamodb,
                                    const std::vector<TableMapping>& mapping,
                                    const std::string& name, int limit,
                                    const nlohmann::json& start);

}  // namespace di
