#include "core/value_order.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace di {
namespace {

template <typename T>
int Cmp(const T& x, const T& y) {
  return x < y ? -1 : y < x ? 1 : 0;
}

long double AsNumber(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kInt32:
      return v.as<Int32>().v;
    case ValueKind::kInt64:
      return static_cast<long double>(v.as<int64_t>());
    case ValueKind::kUInt64:
      return static_cast<long double>(v.as<uint64_t>());
    case ValueKind::kDouble:
      return v.as<double>();
    case ValueKind::kDecimal:
      return std::strtold(v.as<Decimal>().text.c_str(), nullptr);
    default:
      return 0;
  }
}

// Documents as MongoDB compares them: pair by pair (the value's type, the field's name, the
// value), then the one with fewer fields first.
int CompareDocuments(const Document& a, const Document& b) {
  const size_t n = std::min(a.fields.size(), b.fields.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& [ka, va] = a.fields[i];
    const auto& [kb, vb] = b.fields[i];
    if (int c = Cmp(BsonTypeRank(va), BsonTypeRank(vb))) return c;
    if (int c = Cmp(ka, kb)) return c;
    if (int c = CompareValues(va, vb)) return c;
  }
  return Cmp(a.fields.size(), b.fields.size());
}

int CompareArrays(const Array& a, const Array& b) {
  const size_t n = std::min(a.items.size(), b.items.size());
  for (size_t i = 0; i < n; ++i)
    if (int c = CompareValues(a.items[i], b.items[i])) return c;
  return Cmp(a.items.size(), b.items.size());
}

// Values of one kind.
int CompareSameKind(const Value& a, const Value& b) {
  switch (a.kind()) {
    case ValueKind::kBool:
      return Cmp(a.as<bool>(), b.as<bool>());
    case ValueKind::kInt64:
      return Cmp(a.as<int64_t>(), b.as<int64_t>());
    case ValueKind::kUInt64:
      return Cmp(a.as<uint64_t>(), b.as<uint64_t>());
    case ValueKind::kDouble:
      return Cmp(a.as<double>(), b.as<double>());
    case ValueKind::kInt32:
      return Cmp(a.as<Int32>().v, b.as<Int32>().v);
    case ValueKind::kDecimal:
      return Cmp(AsNumber(a), AsNumber(b));
    case ValueKind::kString:
      return Cmp(a.as<std::string>(), b.as<std::string>());
    case ValueKind::kBytes: {  // MongoDB: by length, then subtype, then bytes
      const Bytes &x = a.as<Bytes>(), &y = b.as<Bytes>();
      if (int c = Cmp(x.data.size(), y.data.size())) return c;
      if (int c = Cmp(x.subtype, y.subtype)) return c;
      return Cmp(x.data, y.data);
    }
    case ValueKind::kDate:
      return Cmp(a.as<Date>().days, b.as<Date>().days);
    case ValueKind::kTime:
      return Cmp(a.as<TimeOfDay>().micros, b.as<TimeOfDay>().micros);
    case ValueKind::kTimestamp:
      return Cmp(a.as<Timestamp>().micros, b.as<Timestamp>().micros);
    case ValueKind::kJson:
      return Cmp(a.as<Json>().text, b.as<Json>().text);
    case ValueKind::kArray:
      return CompareArrays(a.as<Array>(), b.as<Array>());
    case ValueKind::kDocument:
      return CompareDocuments(a.as<Document>(), b.as<Document>());
    case ValueKind::kObjectId:
      return Cmp(a.as<ObjectId>().bytes, b.as<ObjectId>().bytes);
    case ValueKind::kBsonDate:
      return Cmp(a.as<BsonDate>().millis, b.as<BsonDate>().millis);
    case ValueKind::kBsonTimestamp: {
      const BsonTimestamp &x = a.as<BsonTimestamp>(), &y = b.as<BsonTimestamp>();
      if (int c = Cmp(x.t, y.t)) return c;
      return Cmp(x.i, y.i);
    }
    case ValueKind::kRegex: {
      const Regex &x = a.as<Regex>(), &y = b.as<Regex>();
      if (int c = Cmp(x.pattern, y.pattern)) return c;
      return Cmp(x.options, y.options);
    }
    case ValueKind::kNull:
    case ValueKind::kMinKey:
    case ValueKind::kMaxKey:
      return 0;
  }
  return 0;
}

}  // namespace

int BsonTypeRank(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kMinKey:
      return 0;
    case ValueKind::kNull:
      return 1;
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
    case ValueKind::kDouble:
    case ValueKind::kDecimal:
      return 2;
    case ValueKind::kString:
      return 3;
    case ValueKind::kDocument:
      return 4;
    case ValueKind::kArray:
      return 5;
    case ValueKind::kBytes:
      return 6;
    case ValueKind::kObjectId:
      return 7;
    case ValueKind::kBool:
      return 8;
    case ValueKind::kBsonDate:
    case ValueKind::kDate:
    case ValueKind::kTimestamp:
      return 9;
    case ValueKind::kBsonTimestamp:
      return 10;
    case ValueKind::kRegex:
      return 11;
    case ValueKind::kMaxKey:
      return 12;
    case ValueKind::kTime:
    case ValueKind::kJson:
      return 13;
  }
  return 13;
}

int CompareValues(const Value& a, const Value& b) {
  if (int c = Cmp(BsonTypeRank(a), BsonTypeRank(b))) return c;
  if (a.kind() == b.kind()) return CompareSameKind(a, b);
  // Numbers of two types by value (an equal value: by kind, for a total order); a SQL date
  // and timestamp by kind.
  if (BsonTypeRank(a) == 2)
    if (int c = Cmp(AsNumber(a), AsNumber(b))) return c;
  return Cmp(static_cast<int>(a.kind()), static_cast<int>(b.kind()));
}

}  // namespace di
