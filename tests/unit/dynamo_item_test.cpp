#include "sinks/dynamo_item.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pipeline/state.h"
#include "pipeline/verify.h"

namespace di {
namespace {

using J = nlohmann::json;

TEST(DynamoItem, NumbersKeepTheirDigitsWithinDynamoDbLimits) {
  EXPECT_TRUE(FitsDynamoNumber("12345678901234567890123456789012345678"));       // 38 digits
  EXPECT_FALSE(FitsDynamoNumber("123456789012345678901234567890123456789"));     // 39
  EXPECT_TRUE(FitsDynamoNumber("1234567890123456789012345678901234567800000"));  // trailing zeros
  EXPECT_TRUE(FitsDynamoNumber("-0.000000000000000000000000000000000000001"));
  EXPECT_TRUE(FitsDynamoNumber("9.9E+125"));
  EXPECT_FALSE(FitsDynamoNumber("1E+126"));
  EXPECT_TRUE(FitsDynamoNumber("1E-130"));
  EXPECT_FALSE(FitsDynamoNumber("1E-131"));
  EXPECT_FALSE(FitsDynamoNumber("NaN"));
  EXPECT_FALSE(FitsDynamoNumber("Infinity"));
  EXPECT_TRUE(FitsDynamoNumber("0.00"));
}

TEST(DynamoItem, EveryValueKindMapsAsTheSpecSays) {
  std::vector<std::string> warnings;
  EXPECT_EQ(ToAttributeValue(Value(Null{})), (J{{"NULL", true}}));
  EXPECT_EQ(ToAttributeValue(Value(true)), (J{{"BOOL", true}}));
  EXPECT_EQ(ToAttributeValue(Value(int64_t{INT64_MIN})), (J{{"N", "-9223372036854775808"}}));
  EXPECT_EQ(ToAttributeValue(Value(uint64_t{UINT64_MAX})), (J{{"N", "18446744073709551615"}}));
  EXPECT_EQ(ToAttributeValue(Value(Decimal{"12.3400"})), (J{{"N", "12.3400"}}));
  EXPECT_EQ(ToAttributeValue(Value(Decimal{std::string(40, '9')}), &warnings),
            (J{{"S", std::string(40, '9')}}));
  EXPECT_EQ(ToAttributeValue(Value(std::nan("")), &warnings), (J{{"S", "NaN"}}));
  EXPECT_EQ(warnings.size(), 2u);
  EXPECT_EQ(ToAttributeValue(Value(0.1)), (J{{"N", "0.1"}}));
  EXPECT_EQ(ToAttributeValue(Value(std::string("ñ"))), (J{{"S", "ñ"}}));
  EXPECT_EQ(ToAttributeValue(Value(Bytes{std::string("\0\1", 2), 0})), (J{{"B", "AAE="}}));
  EXPECT_EQ(ToAttributeValue(Value(Timestamp{1})), (J{{"S", "1970-01-01T00:00:00.000001Z"}}));
  EXPECT_EQ(ToAttributeValue(Value(BsonDate{-1})), (J{{"S", "1969-12-31T23:59:59.999000Z"}}));
  EXPECT_EQ(ToAttributeValue(Value(Int32{7})), (J{{"N", "7"}}));
  ObjectId id;
  ParseObjectId("65800003df7b99e9c601d787", &id);
  EXPECT_EQ(ToAttributeValue(Value(id)), (J{{"S", "65800003df7b99e9c601d787"}}));
  Array a;
  a.items = {Value(int64_t{1}), Value("x")};
  EXPECT_EQ(ToAttributeValue(Value(a)), (J{{"L", {{{"N", "1"}}, {{"S", "x"}}}}}));
  Document d;
  d.fields = {{"k", Value(true)}};
  EXPECT_EQ(ToAttributeValue(Value(d)), (J{{"M", {{"k", {{"BOOL", true}}}}}}));
}

TEST(DynamoItem, JsonColumnsKeepNumberText) {
  auto av = JsonTextToAttributeValue(
      R"({"price": 12345678901234567890.12, "tags": ["a", "b\"c"], "ok": true, "none": null, "n": {}})",
      nullptr);
  EXPECT_EQ(av["M"]["price"], (J{{"N", "12345678901234567890.12"}}));
  EXPECT_EQ(av["M"]["tags"]["L"][1], (J{{"S", "b\"c"}}));
  EXPECT_EQ(av["M"]["ok"], (J{{"BOOL", true}}));
  EXPECT_EQ(av["M"]["none"], (J{{"NULL", true}}));
  EXPECT_EQ(av["M"]["n"], (J{{"M", J::object()}}));
}

TEST(DynamoItem, JsonObjectsWithRepeatedKeysKeepTheLastValue) {
  // PostgreSQL's json (unlike jsonb) keeps repeated keys; DynamoDB refuses them in one map.
  std::string out;
  AppendJsonAsAttributeValue(R"({"a": 1, "b": {"x": 1, "x": [2]}, "a": "two", "c": null})", out,
                             nullptr);
  J av = J::parse(out);
  EXPECT_EQ(av["M"].size(), 3u) << out;
  EXPECT_EQ(av["M"]["a"], (J{{"S", "two"}}));
  EXPECT_EQ(av["M"]["b"]["M"].size(), 1u) << out;
  EXPECT_EQ(av["M"]["b"]["M"]["x"], (J{{"L", {{{"N", "2"}}}}}));
  out.clear();
  AppendJsonAsAttributeValue(R"({"k": 1, "k": 2})", out, nullptr);
  EXPECT_EQ(J::parse(out), (J{{"M", {{"k", {{"N", "2"}}}}}})) << out;
  out.clear();
  AppendJsonAsAttributeValue(R"({"k\u00e9": "a\nb", "kxz": "q"})", out, nullptr);
  EXPECT_EQ(J::parse(out)["M"]["k\u00e9"], (J{{"S", "a\nb"}})) << out;
}

TEST(DynamoItem, TheTextPathCountsTheSizeTheTreeDoes) {
  Document d;
  Array tags;
  tags.items = {Value("a"), Value(int64_t{12345}), Value(Null{})};
  d.fields = {{"title", Value("Ñandú")},
              {"tags", Value(tags)},
              {"when", Value(Timestamp{1700000000000000})},
              {"price", Value(Decimal{"12.50"})},
              {"meta", Value(Json{R"({"ip": "10.0.0.1", "n": [1, 2.5]})"})},
              {"raw", Value(Bytes{std::string(30, 'z'), 0})},
              {"ts", Value(BsonTimestamp{5, 6})}};
  std::string out;
  size_t size = AppendAttributeValue(Value(d), out, nullptr);
  J item = J::parse(out)["M"];
  // Top level: names + values, no map overhead.
  EXPECT_EQ(size, ItemSize(item) + 3 + item.size()) << out;
}

TEST(DynamoItem, ItemSizeCountsNamesAndValues) {
  J item = {{"id", {{"N", "1"}}}, {"name", {{"S", std::string(1000, 'x')}}}};
  EXPECT_GE(ItemSize(item), 1006u);
  EXPECT_LE(ItemSize(item), 1010u);
}

TEST(Verify, CanonicalNumbers) {
  EXPECT_EQ(CanonicalNumber("012.3400"), "12.34");
  EXPECT_EQ(CanonicalNumber("-0.0"), "0");
  EXPECT_EQ(CanonicalNumber("100"), "100");
  EXPECT_EQ(CanonicalNumber("-5.50"), "-5.5");
  EXPECT_EQ(CanonicalNumber("1E+5"), "1E+5");
}

TEST(State, PositionsRoundTripWithTheirKinds) {
  ObjectId id;
  ParseObjectId("65800003df7b99e9c601d787", &id);
  Position p{Value(Timestamp{1735689600250000}),
             {Value(int64_t{42}), Value(id), Value(BsonDate{-5}), Value("x")}};
  auto back = DecodePosition(EncodePosition(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cursor, p.cursor);
  EXPECT_EQ(back->key, p.key);
  EXPECT_FALSE(DecodePosition("not json").ok());
  EXPECT_FALSE(DecodePosition(R"({"cursor":{"k":"ts","v":"abc"}})").ok());
}

}  // namespace
}  // namespace di
