// Value: one field of a row or document, losing nothing of what the source said. SQL types
// map to the first kinds; the MongoDB (BSON) kinds stay distinct so a backup can be restored
// to the same BSON. Values are plain data: copyable, movable, not shared.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace di {

struct Value;

#define DI_VALUE_EQ(T) bool operator==(const T&) const = default

struct Null {
  DI_VALUE_EQ(Null);
};
struct Decimal {  // exact digits as text: "-12.3400", "NaN", "1E+400" (Decimal128)
  std::string text;
  DI_VALUE_EQ(Decimal);
};
struct Date {  // a calendar date; days since 1970-01-01 (proleptic Gregorian), may be < 0
  int32_t days = 0;
  DI_VALUE_EQ(Date);
};
struct TimeOfDay {  // microseconds since midnight (SQL TIME); MySQL TIME may be negative or > 24h
  int64_t micros = 0;
  DI_VALUE_EQ(TimeOfDay);
};
struct Timestamp {  // an instant: microseconds since the Unix epoch, UTC
  int64_t micros = 0;
  DI_VALUE_EQ(Timestamp);
};
struct Json {  // a JSON document as the source gave it (valid JSON text)
  std::string text;
  DI_VALUE_EQ(Json);
};
struct Bytes {
  std::string data;
  uint8_t subtype = 0;  // BSON binary subtype; 0 for SQL binary
  DI_VALUE_EQ(Bytes);
};
struct Array {
  std::vector<Value> items;
  bool operator==(const Array& o) const;
};
struct Document {  // ordered fields, as BSON keeps them
  std::vector<std::pair<std::string, Value>> fields;
  bool operator==(const Document& o) const;
  const Value* Find(std::string_view name) const;
};
struct ObjectId {
  std::array<uint8_t, 12> bytes{};
  DI_VALUE_EQ(ObjectId);
};
struct Int32 {  // BSON int32, kept apart from int64
  int32_t v = 0;
  DI_VALUE_EQ(Int32);
};
struct BsonDate {  // BSON datetime: milliseconds since the epoch, UTC
  int64_t millis = 0;
  DI_VALUE_EQ(BsonDate);
};
struct BsonTimestamp {
  uint32_t t = 0;
  uint32_t i = 0;
  DI_VALUE_EQ(BsonTimestamp);
};
struct Regex {
  std::string pattern;
  std::string options;
  DI_VALUE_EQ(Regex);
};
struct MinKey {
  DI_VALUE_EQ(MinKey);
};
struct MaxKey {
  DI_VALUE_EQ(MaxKey);
};
#undef DI_VALUE_EQ

// The order of the alternatives is the order of ValueKind.
using ValueVariant = std::variant<Null, bool, int64_t, uint64_t, double, Decimal, std::string,
                                  Bytes, Date, TimeOfDay, Timestamp, Json, Array, Document,
                                  ObjectId, Int32, BsonDate, BsonTimestamp, Regex, MinKey, MaxKey>;

enum class ValueKind {
  kNull,
  kBool,
  kInt64,
  kUInt64,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kJson,
  kArray,
  kDocument,
  kObjectId,
  kInt32,
  kBsonDate,
  kBsonTimestamp,
  kRegex,
  kMinKey,
  kMaxKey
};

struct Value {
  ValueVariant v;

  Value() = default;
  template <typename T>
  requires(!std::is_same_v<std::decay_t<T>, Value> && std::is_constructible_v<ValueVariant, T>)
      Value(T&& x)
      : v(std::forward<T>(x)) {}               // NOLINT: implicit by design
  Value(int x) : v(int64_t{x}) {}              // NOLINT
  Value(const char* s) : v(std::string(s)) {}  // NOLINT

  ValueKind kind() const { return static_cast<ValueKind>(v.index()); }
  bool is_null() const { return kind() == ValueKind::kNull; }
  template <typename T>
  const T& as() const {
    return std::get<T>(v);
  }
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&v);
  }
  bool operator==(const Value& o) const { return v == o.v; }
};

// Civil-date helpers (Howard Hinnant's algorithms): exact for any year.
int32_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);
// ObjectId from/to 24 hex digits.
bool ParseObjectId(std::string_view hex, ObjectId* out);
std::string ObjectIdHex(const ObjectId& id);
// MongoDB's $type name of a value's kind ("int", "long", "string", "objectId", "object",
// "binData"...); the kinds only SQL has are named "SQL date", "SQL time", "SQL timestamp",
// "JSON", "unsigned long".
std::string BsonTypeName(const Value& v);

}  // namespace di
