#include "sinks/dynamo_key.h"

#include <bson/bson.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "sinks/dynamo_item.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

using J = nlohmann::json;

bool IsObjectIdHex(std::string_view s) {
  if (s.size() != 24) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Text that another type's key text could be: such a string is written quoted.
bool ReadsAsAnotherType(std::string_view s) {
  return s.empty() || IsObjectIdHex(s) || s[0] == '{' || s[0] == '[' || s[0] == '"' ||
         s == "true" || s == "false" || s == "null";
}

std::string TooLong(size_t bytes) {
  return "the key is " + std::to_string(bytes) + " bytes, over DynamoDB's " +
         std::to_string(kMaxPartitionKeyBytes) + " for a partition key";
}

std::string NotOfType(const std::string& what, std::string_view type) {
  return "the key is " + what + ", which the table's " + std::string(type) +
         " key cannot hold (its key type: key_type in the mapping, or what setup found)";
}

// A number `_id` as N: int32, int64, a finite double, a decimal128 within DynamoDB's range.
std::string AppendMongoNumber(const Value& id, std::string& out) {
  switch (id.kind()) {
    case ValueKind::kInt32:
    case ValueKind::kInt64:
      break;
    case ValueKind::kDouble:
      if (!std::isfinite(id.as<double>()))
        return NotOfType("the double " + FormatDouble(id.as<double>()), "N");
      break;
    case ValueKind::kDecimal:
      if (!FitsDynamoNumber(id.as<Decimal>().text))
        return NotOfType("the decimal " + id.as<Decimal>().text +
                             " (DynamoDB's numbers: 38 digits, magnitude 1e-130 to 1e126)",
                         "N");
      break;
    default:
      return NotOfType("of type " + BsonTypeName(id), "N");
  }
  AppendAttributeValue(id, out, nullptr);
  return "";
}

std::string AppendMongoKey(const Value& id, std::string_view type, std::string& out) {
  if (type == "N") return AppendMongoNumber(id, out);
  if (type == "B") {
    const Bytes* b = id.get_if<Bytes>();
    if (!b) return NotOfType("of type " + BsonTypeName(id), "B");
    if (b->data.empty()) return "the key is empty binary, which DynamoDB refuses";
    if (b->data.size() > kMaxPartitionKeyBytes) return TooLong(b->data.size());
    AppendAttributeValue(id, out, nullptr);
    return "";
  }
  if (type != "S") return "the table's key type '" + std::string(type) + "' is not S, N or B";
  std::string text = MongoKeyText(id);
  if (text.size() > kMaxPartitionKeyBytes) return TooLong(text.size());
  out += "{\"S\":";
  AppendJsonString(text, out);
  out += '}';
  return "";
}

// The decoded bytes of an S AttributeValue's text, or of a B's base64.
size_t DecodedSize(const std::string& av, char type) {
  const J j = J::parse(av, nullptr, false);
  if (j.is_discarded()) return 0;
  const std::string s = j.begin().value().get<std::string>();
  if (type == 'S') return s.size();
  std::string bytes;
  Base64Decode(s, &bytes);
  return bytes.size();
}

}  // namespace

std::string MongoKeyText(const Value& id) {
  if (const ObjectId* oid = id.get_if<ObjectId>()) return ObjectIdHex(*oid);
  if (const std::string* s = id.get_if<std::string>()) {
    if (!ReadsAsAnotherType(*s)) return *s;
    std::string quoted;
    AppendJsonString(*s, quoted);
    return quoted;
  }
  return ToJson(id, JsonStyle::kExtended);
}

Result<Value> ParseMongoKeyText(std::string_view text) {
  if (IsObjectIdHex(text)) {
    ObjectId id;
    ParseObjectId(text, &id);
    return Value(id);
  }
  if (text.empty()) return InvalidArgument("an empty text is no MongoDB key's text");
  if (!ReadsAsAnotherType(text)) return Value(std::string(text));
  const std::string doc = "{\"k\":" + std::string(text) + "}";
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(doc.data()),
                                 static_cast<ssize_t>(doc.size()), &error);
  if (!b)
    return InvalidArgument("'" + std::string(text) +
                           "' is not a MongoDB key's text: " + error.message);
  Value v = BsonToValue(b);
  bson_destroy(b);
  const auto& fields = v.as<Document>().fields;
  if (fields.size() != 1 || MongoKeyText(fields[0].second) != text)
    return InvalidArgument("'" + std::string(text) +
                           "' is not the text a MongoDB key is written as (canonical Extended "
                           "JSON of one value)");
  return fields[0].second;
}

std::string AppendKeyAttributeValue(Engine engine, const Value& key, std::string_view type,
                                    std::string& out) {
  if (engine == Engine::kMongo) return AppendMongoKey(key, type, out);
  std::string av;
  AppendAttributeValue(key, av, nullptr);
  std::string why = FitKeyAttributeValue(av, type);
  if (why.empty()) out += av;
  return why;
}

std::string FitKeyAttributeValue(std::string& av, std::string_view type) {
  // av is {"T":...}: its type letter at 2 (N, S, B; BOOL, NULL, M, L are never keys).
  const char have = av.size() > 6 && av[3] == '"' ? av[2] : '?';
  const char want = type.size() == 1 ? type[0] : '?';
  if (have == 'N' && want == 'S') {
    av[2] = 'S';  // digits, sign, '.', 'e': the same text as a string
    return "";
  }
  if (have == 'S' && want == 'N') {
    const std::string s = J::parse(av)["S"].get<std::string>();
    if (s.empty() || s[0] == '+' || !FitsDynamoNumber(s))
      return NotOfType("the text " + J(s).dump() + ", not a number", "N");
    av = "{\"N\":\"" + s + "\"}";
    return "";
  }
  if (have != want || (want != 'N' && want != 'S' && want != 'B'))
    return NotOfType(std::string(have == 'S'   ? "text"
                                 : have == 'B' ? "binary"
                                               : "not a key value"),
                     type);
  if (want == 'N') return "";
  // The text between the quotes is at least as long as what it decodes to.
  const size_t inside = av.size() - 8;
  if (inside == 0)
    return std::string("the key is ") + (want == 'S' ? "an empty string" : "empty binary") +
           ", which DynamoDB refuses";
  if (inside <= kMaxPartitionKeyBytes) return "";
  const size_t bytes = DecodedSize(av, want);
  return bytes > kMaxPartitionKeyBytes ? TooLong(bytes) : "";
}

}  // namespace di
