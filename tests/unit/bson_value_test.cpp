// BSON documents built with libbson — including the types FerretDB cannot store
// (Decimal128, MinKey/MaxKey, NaN/Infinity, nested arrays, '.' and '$' in keys, NUL in
// strings) — convert to Values whose canonical Extended JSON equals libbson's own, and
// convert back to the same bytes.
#include <bson/bson.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

using nlohmann::json;

// {"$numberDouble": "0.1"} and {"$numberDouble": "0.10000000000000001"} are the same double.
json NormalizeDoubles(const json& j) {
  if (j.is_object()) {
    if (j.size() == 1 && j.contains("$numberDouble")) {
      std::string s = j["$numberDouble"];
      if (s == "NaN" || s == "Infinity" || s == "-Infinity") return j;
      return json{{"$numberDouble", std::strtod(s.c_str(), nullptr)}};
    }
    json out = json::object();
    for (auto& [k, v] : j.items()) out[k] = NormalizeDoubles(v);
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (auto& v : j) out.push_back(NormalizeDoubles(v));
    return out;
  }
  return j;
}

TEST(BsonValue, EveryBsonTypeMatchesLibbsonCanonicalExtendedJson) {
  bson_t doc = BSON_INITIALIZER;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "65800003df7b99e9c601d787");
  BSON_APPEND_OID(&doc, "_id", &oid);
  BSON_APPEND_INT32(&doc, "i32", -7);
  BSON_APPEND_INT64(&doc, "i64", INT64_C(9007199254740993));
  BSON_APPEND_DOUBLE(&doc, "dbl", 0.1);
  BSON_APPEND_DOUBLE(&doc, "whole", 3.0);
  BSON_APPEND_DOUBLE(&doc, "nan", std::nan(""));
  BSON_APPEND_DOUBLE(&doc, "inf", HUGE_VAL);
  BSON_APPEND_DOUBLE(&doc, "ninf", -HUGE_VAL);
  BSON_APPEND_DOUBLE(&doc, "negzero", -0.0);
  bson_decimal128_t dec;
  bson_decimal128_from_string("12345678901234567890.123456789", &dec);
  BSON_APPEND_DECIMAL128(&doc, "dec", &dec);
  bson_decimal128_from_string("-Infinity", &dec);
  BSON_APPEND_DECIMAL128(&doc, "decinf", &dec);
  BSON_APPEND_UTF8(&doc, "text", "ñandú 🎬 \"q\" \\ \n");
  bson_append_utf8(&doc, "nul", -1, "a\0b", 3);
  BSON_APPEND_BOOL(&doc, "yes", true);
  BSON_APPEND_NULL(&doc, "nothing");
  BSON_APPEND_DATE_TIME(&doc, "old", INT64_C(-2085523200000));
  BSON_APPEND_DATE_TIME(&doc, "new", INT64_C(1735689600123));
  const uint8_t bin[] = {0, 1, 2, 255, 0x27};
  BSON_APPEND_BINARY(&doc, "bin", BSON_SUBTYPE_BINARY, bin, sizeof bin);
  BSON_APPEND_BINARY(&doc, "uuid", BSON_SUBTYPE_UUID, bin, sizeof bin);
  bson_append_binary(&doc, "vector", -1, static_cast<bson_subtype_t>(9), bin, sizeof bin);
  BSON_APPEND_TIMESTAMP(&doc, "ts", 1700000000, 3);
  BSON_APPEND_REGEX(&doc, "re", "^a.*b$", "im");
  BSON_APPEND_MINKEY(&doc, "min");
  BSON_APPEND_MAXKEY(&doc, "max");
  bson_t child, grand;
  BSON_APPEND_DOCUMENT_BEGIN(&doc, "nested", &child);
  BSON_APPEND_UTF8(&child, "a.b", "dotted key");
  BSON_APPEND_UTF8(&child, "$weird", "dollar key");
  BSON_APPEND_ARRAY_BEGIN(&child, "matrix", &grand);  // an array of arrays
  bson_t row;
  BSON_APPEND_ARRAY_BEGIN(&grand, "0", &row);
  BSON_APPEND_INT32(&row, "0", 1);
  BSON_APPEND_INT32(&row, "1", 2);
  bson_append_array_end(&grand, &row);
  BSON_APPEND_ARRAY_BEGIN(&grand, "1", &row);
  bson_append_array_end(&grand, &row);
  bson_append_array_end(&child, &grand);
  bson_append_document_end(&doc, &child);

  Value v = BsonToValue(&doc);
  char* theirs = bson_as_canonical_extended_json(&doc, nullptr);
  EXPECT_EQ(NormalizeDoubles(json::parse(ToJson(v, JsonStyle::kExtended))),
            NormalizeDoubles(json::parse(theirs)))
      << ToJson(v, JsonStyle::kExtended) << "\n"
      << theirs;
  bson_free(theirs);

  // Kinds stay distinct.
  const Document& d = v.as<Document>();
  EXPECT_EQ(d.Find("i32")->kind(), ValueKind::kInt32);
  EXPECT_EQ(d.Find("i64")->kind(), ValueKind::kInt64);
  EXPECT_EQ(d.Find("dbl")->kind(), ValueKind::kDouble);
  EXPECT_EQ(d.Find("dec")->kind(), ValueKind::kDecimal);
  EXPECT_EQ(d.Find("old")->kind(), ValueKind::kBsonDate);
  EXPECT_EQ(d.Find("vector")->as<Bytes>().subtype, 9);
  EXPECT_EQ(d.Find("nul")->as<std::string>(), std::string("a\0b", 3));

  // And back to the same BSON bytes.
  bson_t again = BSON_INITIALIZER;
  for (const auto& [k, fv] : d.fields) ASSERT_TRUE(AppendBsonValue(&again, k, fv)) << k;
  ASSERT_EQ(again.len, doc.len);
  EXPECT_EQ(std::memcmp(bson_get_data(&again), bson_get_data(&doc), doc.len), 0);
  bson_destroy(&again);
  bson_destroy(&doc);
}

TEST(JsonEncode, PlainStyleFollowsTheSpec) {
  EXPECT_EQ(ToJson(Value(Decimal{"-0012.3400"}), JsonStyle::kPlain), "\"-0012.3400\"");
  EXPECT_EQ(ToJson(Value(int64_t{INT64_MIN}), JsonStyle::kPlain), "-9223372036854775808");
  EXPECT_EQ(ToJson(Value(uint64_t{UINT64_MAX}), JsonStyle::kPlain), "18446744073709551615");
  EXPECT_EQ(ToJson(Value(std::nan("")), JsonStyle::kPlain), "\"NaN\"");
  EXPECT_EQ(ToJson(Value(-HUGE_VAL), JsonStyle::kPlain), "\"-Infinity\"");
  EXPECT_EQ(ToJson(Value(0.1), JsonStyle::kPlain), "0.1");
  EXPECT_EQ(ToJson(Value(Timestamp{1}), JsonStyle::kPlain), "\"1970-01-01T00:00:00.000001Z\"");
  EXPECT_EQ(ToJson(Value(Timestamp{-1}), JsonStyle::kPlain), "\"1969-12-31T23:59:59.999999Z\"");
  EXPECT_EQ(ToJson(Value(Date{DaysFromCivil(1, 1, 1)}), JsonStyle::kPlain), "\"0001-01-01\"");
  EXPECT_EQ(ToJson(Value(Date{DaysFromCivil(9999, 12, 31)}), JsonStyle::kPlain), "\"9999-12-31\"");
  EXPECT_EQ(ToJson(Value(TimeOfDay{-(838LL * 3600 + 59 * 60 + 59) * 1000000}), JsonStyle::kPlain),
            "\"-838:59:59.000000\"");
  EXPECT_EQ(ToJson(Value(Bytes{std::string("\0\xff", 2), 0}), JsonStyle::kPlain), "\"AP8=\"");
  EXPECT_EQ(ToJson(Value(Json{"{\"a\":[1,2]}"}), JsonStyle::kPlain), "{\"a\":[1,2]}");
  // A json column's text as written, line breaks and all: one line (a JSON Lines record),
  // the escaped \n inside the string kept.
  EXPECT_EQ(
      ToJson(Value(Json{"{\r\n  \"a\": [1,\n 2],\t\"s\": \"x\\ny\"\n}\n"}), JsonStyle::kPlain),
      "{  \"a\": [1, 2],\t\"s\": \"x\\ny\"}");
  EXPECT_EQ(ToJson(Value(Json{"\n\r[1,\r2]"}), JsonStyle::kPlain),
            "[1,2]");  // breaks first, lone \r
  EXPECT_EQ(ToJson(Value(std::string("\x01\t\"\\ \xc3\xb1 \xff")), JsonStyle::kPlain),
            "\"\\u0001\\t\\\"\\\\ \xc3\xb1 \\ufffd\"");  // bad UTF-8 becomes U+FFFD
  Array a;
  a.items = {Value(int64_t{1}), Value(Null{}), Value("x")};
  EXPECT_EQ(ToJson(Value(a), JsonStyle::kPlain), "[1,null,\"x\"]");
}

}  // namespace
}  // namespace di
