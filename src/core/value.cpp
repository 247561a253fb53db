#include "core/value.h"

#include "core/strings.h"

namespace di {

bool Array::operator==(const Array& o) const {
  return items == o.items;
}
bool Document::operator==(const Document& o) const {
  return fields == o.fields;
}

const Value* Document::Find(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

int32_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int32_t>(era * 146097 + static_cast<int64_t>(doe) - 719468);
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool ParseObjectId(std::string_view hex, ObjectId* out) {
  if (hex.size() != 24) return false;
  for (size_t i = 0; i < 12; ++i) {
    int hi = HexDigitValue(hex[2 * i]), lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string ObjectIdHex(const ObjectId& id) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(24, '0');
  for (size_t i = 0; i < 12; ++i) {
    out[2 * i] = kDigits[id.bytes[i] >> 4];
    out[2 * i + 1] = kDigits[id.bytes[i] & 15];
  }
  return out;
}

std::string BsonTypeName(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt64:
      return "long";
    case ValueKind::kUInt64:
      return "unsigned long";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kString:
      return "string";
    case ValueKind::kBytes:
      return "binData";
    case ValueKind::kDate:
      return "SQL date";
    case ValueKind::kTime:
      return "SQL time";
    case ValueKind::kTimestamp:
      return "SQL timestamp";
    case ValueKind::kJson:
      return "JSON";
    case ValueKind::kArray:
      return "array";
    case ValueKind::kDocument:
      return "object";
    case ValueKind::kObjectId:
      return "objectId";
    case ValueKind::kInt32:
      return "int";
    case ValueKind::kBsonDate:
      return "date";
    case ValueKind::kBsonTimestamp:
      return "timestamp";
    case ValueKind::kRegex:
      return "regex";
    case ValueKind::kMinKey:
      return "minKey";
    case ValueKind::kMaxKey:
      return "maxKey";
  }
  return "value";
}

}  // namespace di
