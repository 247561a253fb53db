// Value -> DynamoDB AttributeValue (SPEC.md §5): numbers to N with all their digits (beyond
// DynamoDB's 38 digits, or NaN/±Infinity: S, with a warning), text to S, binary to B,
// booleans to BOOL, NULL to NULL, timestamps to ISO 8601 S, documents and JSON objects to M,
// arrays to L. Pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/value.h"

namespace di {

using AttributeValue = nlohmann::json;

// `warnings` (may be null) receives a line for each value that had to become S.
AttributeValue ToAttributeValue(const Value& v, std::vector<std::string>* warnings = nullptr);
// JSON text -> AttributeValue, keeping each number's digits exactly.
AttributeValue JsonTextToAttributeValue(std::string_view json_text,
                                        std::vector<std::string>* warnings);
// The item's size as DynamoDB counts it (names + values), for the 400 KB limit.
size_t ItemSize(const AttributeValue& item);
// Whether decimal text fits DynamoDB's N (at most 38 significant digits, exponent range).
bool FitsDynamoNumber(std::string_view decimal);

}  // namespace di
