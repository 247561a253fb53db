// BSON <-> Value for MongoDB (sources/mongo_source.h): a document read into a Document
// that keeps every BSON type, and a Value appended to a BSON document (for restore and for
// building queries). Plain functions on caller-owned bson_t; thread-safe as such.
#include <bson/bson.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/json_encode.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

Value IterValue(bson_iter_t* it);

Document IterDocument(bson_iter_t* child) {
  Document d;
  while (bson_iter_next(child))
    d.fields.emplace_back(std::string(bson_iter_key(child), bson_iter_key_len(child)),
                          IterValue(child));
  return d;
}

Value IterValue(bson_iter_t* it) {
  switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE:
      return bson_iter_double(it);
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(it, &len);
      return std::string(s, len);
    }
    case BSON_TYPE_DOCUMENT: {
      bson_iter_t child;
      bson_iter_recurse(it, &child);
      return IterDocument(&child);
    }
    case BSON_TYPE_ARRAY: {
      bson_iter_t child;
      bson_iter_recurse(it, &child);
      Array a;
      while (bson_iter_next(&child)) a.items.push_back(IterValue(&child));
      return a;
    }
    case BSON_TYPE_BINARY: {
      bson_subtype_t sub;
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_binary(it, &sub, &len, &data);
      return Bytes{std::string(reinterpret_cast<const char*>(data), len),
                   static_cast<uint8_t>(sub)};
    }
    case BSON_TYPE_OID: {
      ObjectId id;
      std::memcpy(id.bytes.data(), bson_iter_oid(it)->bytes, 12);
      return id;
    }
    case BSON_TYPE_BOOL:
      return bson_iter_bool(it);
    case BSON_TYPE_DATE_TIME:
      return BsonDate{bson_iter_date_time(it)};
    case BSON_TYPE_NULL:
      return Null{};
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(it, &options);
      return Regex{pattern ? pattern : "", options ? options : ""};
    }
    case BSON_TYPE_INT32:
      return Int32{bson_iter_int32(it)};
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t = 0, i = 0;
      bson_iter_timestamp(it, &t, &i);
      return BsonTimestamp{t, i};
    }
    case BSON_TYPE_INT64:
      return static_cast<int64_t>(bson_iter_int64(it));
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(it, &dec);
      char buf[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, buf);
      return Decimal{buf};
    }
    case BSON_TYPE_MINKEY:
      return MinKey{};
    case BSON_TYPE_MAXKEY:
      return MaxKey{};
    case BSON_TYPE_SYMBOL: {
      uint32_t len = 0;
      const char* s = bson_iter_symbol(it, &len);
      return std::string(s, len);
    }
    case BSON_TYPE_CODE: {
      uint32_t len = 0;
      const char* s = bson_iter_code(it, &len);
      return std::string(s, len);
    }
    default:
      return Null{};  // undefined, dbpointer, codewscope: deprecated BSON types
  }
}

bool AppendBsonArray(bson_t* doc, const char* k, int kl, const Array& array) {
  bson_t child;
  if (!bson_append_array_begin(doc, k, kl, &child)) return false;
  const auto& items = array.items;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string idx = std::to_string(i);
    if (!AppendBsonValue(&child, idx, items[i])) return false;
  }
  return bson_append_array_end(doc, &child);
}

bool AppendBsonDocument(bson_t* doc, const char* k, int kl, const Document& document) {
  bson_t child;
  if (!bson_append_document_begin(doc, k, kl, &child)) return false;
  for (const auto& [fk, fv] : document.fields)
    if (!AppendBsonValue(&child, fk, fv)) return false;
  return bson_append_document_end(doc, &child);
}

}  // namespace

Value BsonToValue(const bson_t* doc) {
  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) return Document{};
  return IterDocument(&it);
}

bool AppendBsonValue(bson_t* doc, std::string_view key, const Value& v) {
  const char* k = key.data();
  int kl = static_cast<int>(key.size());
  switch (v.kind()) {
    case ValueKind::kNull:
      return bson_append_null(doc, k, kl);
    case ValueKind::kBool:
      return bson_append_bool(doc, k, kl, v.as<bool>());
    case ValueKind::kInt64:
      return bson_append_int64(doc, k, kl, v.as<int64_t>());
    case ValueKind::kUInt64: {
      uint64_t u = v.as<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) {
        bson_decimal128_t d;
        bson_decimal128_from_string(std::to_string(u).c_str(), &d);
        return bson_append_decimal128(doc, k, kl, &d);
      }
      return bson_append_int64(doc, k, kl, static_cast<int64_t>(u));
    }
    case ValueKind::kDouble:
      return bson_append_double(doc, k, kl, v.as<double>());
    case ValueKind::kDecimal: {
      bson_decimal128_t d;
      if (!bson_decimal128_from_string(v.as<Decimal>().text.c_str(), &d)) return false;
      return bson_append_decimal128(doc, k, kl, &d);
    }
    case ValueKind::kString: {
      const auto& s = v.as<std::string>();
      return bson_append_utf8(doc, k, kl, s.data(), static_cast<int>(s.size()));
    }
    case ValueKind::kBytes: {
      const auto& b = v.as<Bytes>();
      return bson_append_binary(doc, k, kl, static_cast<bson_subtype_t>(b.subtype),
                                reinterpret_cast<const uint8_t*>(b.data.data()),
                                static_cast<uint32_t>(b.data.size()));
    }
    case ValueKind::kDate:
      return bson_append_date_time(doc, k, kl, int64_t{v.as<Date>().days} * 86400000);
    case ValueKind::kTime: {
      std::string t = FormatTime(v.as<TimeOfDay>().micros);
      return bson_append_utf8(doc, k, kl, t.data(), static_cast<int>(t.size()));
    }
    case ValueKind::kTimestamp: {
      int64_t us = v.as<Timestamp>().micros;
      return bson_append_date_time(doc, k, kl, us >= 0 ? us / 1000 : -((-us + 999) / 1000));
    }
    case ValueKind::kJson: {
      const auto& j = v.as<Json>().text;
      return bson_append_utf8(doc, k, kl, j.data(), static_cast<int>(j.size()));
    }
    case ValueKind::kArray:
      return AppendBsonArray(doc, k, kl, v.as<Array>());
    case ValueKind::kDocument:
      return AppendBsonDocument(doc, k, kl, v.as<Document>());
    case ValueKind::kObjectId: {
      bson_oid_t oid;
      std::memcpy(oid.bytes, v.as<ObjectId>().bytes.data(), 12);
      return bson_append_oid(doc, k, kl, &oid);
    }
    case ValueKind::kInt32:
      return bson_append_int32(doc, k, kl, v.as<Int32>().v);
    case ValueKind::kBsonDate:
      return bson_append_date_time(doc, k, kl, v.as<BsonDate>().millis);
    case ValueKind::kBsonTimestamp:
      return bson_append_timestamp(doc, k, kl, v.as<BsonTimestamp>().t, v.as<BsonTimestamp>().i);
    case ValueKind::kRegex:
      return bson_append_regex(doc, k, kl, v.as<Regex>().pattern.c_str(),
                               v.as<Regex>().options.c_str());
    case ValueKind::kMinKey:
      return bson_append_minkey(doc, k, kl);
    case ValueKind::kMaxKey:
      return bson_append_maxkey(doc, k, kl);
  }
  return false;
}

}  // namespace di
