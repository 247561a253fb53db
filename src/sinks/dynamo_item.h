// Value -> DynamoDB AttributeValue (docs/dynamodb-mapping.md, Values): numbers to N with all their
// digits (beyond DynamoDB's 38 digits, or NaN/±Infinity: S, with a warning), text to S, binary to
// B, booleans to BOOL, NULL to NULL, timestamps to ISO 8601 S, documents and JSON objects to M,
// arrays to L. The AttributeValue is written as JSON text straight from the value (no JSON tree:
// the migration's hot path); the tree forms below parse that text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "core/value.h"

namespace di {

using AttributeValue = nlohmann::json;

// Appends v's AttributeValue as JSON text to `out`; returns its size as DynamoDB counts it
// (for the 400 KB item limit). `warnings` (may be null) receives a line for each value that
// had to become S.
size_t AppendAttributeValue(const Value& v, std::string& out, std::vector<std::string>* warnings);
// {"M":{...}} of n attributes: the i-th is named name(i) and holds value(i).
size_t AppendAttributeMap(size_t n, const std::function<std::string_view(size_t)>& name,
                          const std::function<const Value&(size_t)>& value, std::string& out,
                          std::vector<std::string>* warnings);
// The same for JSON text (a json/jsonb/JSON column): objects to M, arrays to L, numbers to N
// keeping their digits; of repeated object keys the last wins.
size_t AppendJsonAsAttributeValue(std::string_view json_text, std::string& out,
                                  std::vector<std::string>* warnings);

// What AppendAttributeValue writes for the value SQL text reads as (see SqlText), without
// building the value; returns its size. Nothing written (nullopt) where the text is not in
// the kind's shape (an integer that is not IsPlainInteger): the caller writes the value.
std::optional<size_t> AppendSqlTextAsAttributeValue(SqlText kind, std::string_view s,
                                                    std::string& out,
                                                    std::vector<std::string>* warnings);

// Tree forms (verify, tests).
AttributeValue ToAttributeValue(const Value& v, std::vector<std::string>* warnings = nullptr);
AttributeValue JsonTextToAttributeValue(std::string_view json_text,
                                        std::vector<std::string>* warnings);
// One attribute value's size as DynamoDB counts it.
size_t AttributeValueSize(const AttributeValue& av);
// The item's size as DynamoDB counts it (names + values), for the 400 KB limit.
size_t ItemSize(const AttributeValue& item);
// Whether decimal text fits DynamoDB's N (at most 38 significant digits, exponent range).
bool FitsDynamoNumber(std::string_view decimal);

}  // namespace di
