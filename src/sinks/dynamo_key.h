// A source key -> the DynamoDB partition key of a table whose key is of type S, N or B
// (docs/dynamodb-mapping.md, "Keys"). A MongoDB `_id` of any BSON type has one: in an N table
// a number's digits, in a B table binary's bytes, in an S table an ObjectId's 24 hex digits,
// a string as itself and any other value as its canonical Extended JSON — an injective text
// that ParseMongoKeyText maps back to the very `_id` (type and value). A SQL key is its
// value's AttributeValue, a number written as S text or numeric text as N where the table
// says so. A key that cannot be the table's (another type, empty, NaN, over DynamoDB's
// 2048 bytes) gets the reason instead: that item is dead-lettered, never its batch.
// Plain functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/table.h"
#include "core/value.h"

namespace di {

// DynamoDB's largest partition key value, in bytes.
constexpr size_t kMaxPartitionKeyBytes = 2048;

// The S text of a MongoDB `_id`: an ObjectId's 24 lowercase hex digits; a string as itself,
// unless it could be read as another type's text (empty, 24 lowercase hex digits, beginning
// with `{`, `[` or `"`, or `true`, `false`, `null`): then as a JSON string literal, quotes
// included; any other value its canonical Extended JSON v2 text.
std::string MongoKeyText(const Value& id);
// The `_id` back from its S text; InvalidArgument for a text MongoKeyText never gives.
Result<Value> ParseMongoKeyText(std::string_view text);

// Appends the key AttributeValue (JSON text, {"S":"..."}) of a key from `engine` for a
// table whose key is of `type` ("S", "N" or "B") to `out`; returns "" or, when it cannot be
// that table's key, why (what was appended is then to be dropped).
std::string AppendKeyAttributeValue(Engine engine, const Value& key, std::string_view type,
                                    std::string& out);
// A SQL key's AttributeValue text `av` (as AppendAttributeValue or a cell wrote it) made the
// key of a `type` table in place: N digits to S, numeric S text to N; "" or why it cannot be.
std::string FitKeyAttributeValue(std::string& av, std::string_view type);

}  // namespace di
