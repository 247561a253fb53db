// Keys of any BSON type as DynamoDB keys (sinks/dynamo_key.h): the S text of each type, its
// way back to the very `_id`, texts that are not one refused, N and B keys and what they
// refuse, SQL keys made the table's type; and the key type setup infers from a collection.
#include "sinks/dynamo_key.h"

#include <gtest/gtest.h>

#include <set>

#include "core/value_order.h"
#include "pipeline/mapping.h"
#include "pipeline/state.h"

namespace di {
namespace {

Value Oid(const char* hex) {
  ObjectId id;
  EXPECT_TRUE(ParseObjectId(hex, &id));
  return id;
}

Value Doc(std::vector<std::pair<std::string, Value>> fields) {
  return Document{std::move(fields)};
}

// Each _id and the S text it has.
const std::vector<std::pair<Value, std::string>>& TextCases() {
  static const std::vector<std::pair<Value, std::string>> cases = {
      {Oid("65a1b2c3d4e5f60718293a4b"), "65a1b2c3d4e5f60718293a4b"},
      {Value("movie-17"), "movie-17"},
      {Value("Ñandú 🎬"), "Ñandú 🎬"},
      {Value("5"), "5"},  // a string: 5 the number is {"$numberInt":"5"}
      {Value("65a1b2c3d4e5f60718293a4b"), "\"65a1b2c3d4e5f60718293a4b\""},  // not the ObjectId
      {Value(""), "\"\""},
      {Value("{not json"), "\"{not json\""},
      {Value("[x"), "\"[x\""},
      {Value("\"quoted\""), "\"\\\"quoted\\\"\""},
      {Value("true"), "\"true\""},
      {Value("null"), "\"null\""},
      {Value("True"), "True"},
      {Value(Int32{5}), "{\"$numberInt\":\"5\"}"},
      {Value(int64_t{5}), "{\"$numberLong\":\"5\"}"},
      {Value(5.0), "{\"$numberDouble\":\"5.0\"}"},
      {Value(-0.0), "{\"$numberDouble\":\"-0.0\"}"},
      {Value(Decimal{"5.00"}), "{\"$numberDecimal\":\"5.00\"}"},
      {Value(true), "true"},
      {Value(Null{}), "null"},
      {Value(BsonDate{1735689600000}), "{\"$date\":{\"$numberLong\":\"1735689600000\"}}"},
      {Value(Bytes{"\x01\x02", 4}), "{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"04\"}}"},
      {Doc({{"a", Int32{1}}, {"b", "x"}}), "{\"a\":{\"$numberInt\":\"1\"},\"b\":\"x\"}"},
      {Doc({{"b", "x"}, {"a", Int32{1}}}), "{\"b\":\"x\",\"a\":{\"$numberInt\":\"1\"}}"},
      {Doc({{"n", Doc({{"m", Array{{Int32{1}, "y"}}}})}}),
       "{\"n\":{\"m\":[{\"$numberInt\":\"1\"},\"y\"]}}"},
      {Value(MinKey{}), "{\"$minKey\":1}"},
      {Value(BsonTimestamp{7, 3}), "{\"$timestamp\":{\"t\":7,\"i\":3}}"},
  };
  return cases;
}

TEST(DynamoKey, EveryBsonTypeHasItsText) {
  for (const auto& [id, text] : TextCases()) EXPECT_EQ(MongoKeyText(id), text);
}

// Injective and reversible: every text is another key's, and reads back as the same _id
// (type and value).
TEST(DynamoKey, EachTextReadsBackAsTheVeryKey) {
  std::set<std::string> texts;
  for (const auto& [id, text] : TextCases()) {
    EXPECT_TRUE(texts.insert(text).second) << text << " is two keys' text";
    auto back = ParseMongoKeyText(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().message();
    EXPECT_EQ(*back, id) << text << " read back as another value";
  }
}

TEST(DynamoKey, TextsNoKeyHasAreRefused) {
  for (const char* text :
       {"", "\"plain\"", "{\"$numberInt\": \"5\"}", "{\"a\":1}",
        "{\"$numberInt\":\"5\"},\"x\":{\"a\":\"b\"}", "[1,", "\"65a1b2c3d4e5f60718293a4b\" "})
    EXPECT_FALSE(ParseMongoKeyText(text).ok()) << text;
  EXPECT_EQ(*ParseMongoKeyText("nul"), Value("nul"));  // not null: a plain string
}

std::string Key(Engine e, const Value& v, const char* type, std::string* why) {
  std::string av;
  *why = AppendKeyAttributeValue(e, v, type, av);
  return av;
}

TEST(DynamoKey, NumberAndBinaryTablesTakeTheirOwnKeysOnly) {
  std::string why;
  EXPECT_EQ(Key(Engine::kMongo, Int32{7}, "N", &why), "{\"N\":\"7\"}");
  EXPECT_EQ(Key(Engine::kMongo, int64_t{9007199254740993}, "N", &why),
            "{\"N\":\"9007199254740993\"}");
  EXPECT_EQ(Key(Engine::kMongo, 2.5, "N", &why), "{\"N\":\"2.5\"}");
  EXPECT_EQ(Key(Engine::kMongo, Decimal{"12.50"}, "N", &why), "{\"N\":\"12.50\"}");
  EXPECT_EQ(why, "");
  Key(Engine::kMongo, Value("7"), "N", &why);
  EXPECT_NE(why.find("the key is of type string, which the table's N key cannot hold"),
            std::string::npos)
      << why;
  Key(Engine::kMongo, std::nan(""), "N", &why);
  EXPECT_NE(why.find("the double NaN"), std::string::npos) << why;
  Key(Engine::kMongo, Decimal{"1E+200"}, "N", &why);
  EXPECT_NE(why.find("the decimal 1E+200"), std::string::npos) << why;
  EXPECT_EQ(Key(Engine::kMongo, Bytes{"\x01\x02", 0}, "B", &why), "{\"B\":\"AQI=\"}");
  Key(Engine::kMongo, Bytes{"", 0}, "B", &why);
  EXPECT_NE(why.find("empty binary"), std::string::npos) << why;
  Key(Engine::kMongo, Int32{1}, "B", &why);
  EXPECT_NE(why.find("the key is of type int"), std::string::npos) << why;
  Key(Engine::kMongo, std::string(3000, 'x'), "S", &why);
  EXPECT_NE(why.find("3000 bytes, over DynamoDB's 2048"), std::string::npos) << why;
  EXPECT_EQ(Key(Engine::kMongo, Doc({{"a", Int32{1}}}), "S", &why),
            "{\"S\":\"{\\\"a\\\":{\\\"$numberInt\\\":\\\"1\\\"}}\"}");
  EXPECT_EQ(why, "");
}

TEST(DynamoKey, SqlKeysAreMadeTheTablesType) {
  std::string why;
  EXPECT_EQ(Key(Engine::kPostgres, int64_t{42}, "N", &why), "{\"N\":\"42\"}");
  EXPECT_EQ(Key(Engine::kPostgres, int64_t{42}, "S", &why), "{\"S\":\"42\"}");
  EXPECT_EQ(Key(Engine::kMySql, Value("-12.5"), "N", &why), "{\"N\":\"-12.5\"}");
  EXPECT_EQ(Key(Engine::kMySql, Value("abc"), "S", &why), "{\"S\":\"abc\"}");
  EXPECT_EQ(why, "");
  Key(Engine::kMySql, Value("abc"), "N", &why);
  EXPECT_NE(why.find("the text \"abc\", not a number"), std::string::npos) << why;
  Key(Engine::kMySql, Value(""), "S", &why);
  EXPECT_NE(why.find("an empty string"), std::string::npos) << why;
  Key(Engine::kPostgres, Json{"{\"a\":1}"}, "S", &why);
  EXPECT_NE(why.find("not a key value"), std::string::npos) << why;
  std::string long_text(2100, 'y');
  Key(Engine::kPostgres, Value(long_text), "S", &why);
  EXPECT_NE(why.find("2100 bytes"), std::string::npos) << why;
  Key(Engine::kPostgres, Bytes{"\x01", 0}, "S", &why);
  EXPECT_NE(why.find("binary"), std::string::npos) << why;
}

TEST(DynamoKey, SetupInfersTheKeyTypeFromTheTypesFound) {
  EXPECT_EQ(MongoKeyTypeFor({{"int", 20}, {"long", 1}, {"double", 2}, {"decimal", 1}}), "N");
  EXPECT_EQ(MongoKeyTypeFor({{"binData", 3}}), "B");
  EXPECT_EQ(MongoKeyTypeFor({{"objectId", 50}}), "S");
  EXPECT_EQ(MongoKeyTypeFor({{"int", 20}, {"string", 1}}), "S");
  EXPECT_EQ(MongoKeyTypeFor({{"object", 2}}), "S");
  EXPECT_EQ(MongoKeyTypeFor({}), "S");  // an empty collection: ObjectIds to come
}

TEST(DynamoKey, AMappingFileMayGiveTheKeyType) {
  const char* file = R"({"tables": [{"source": "mongodb", "table": "things",
    "dynamodb": {"table": "t", "key": {"id": "_id"}, "key_type": "N"}}]})";
  auto m = ParseMapping(file, "test");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)[0].dynamodb->key_type, "N");
  const char* bad = R"({"tables": [{"source": "mongodb", "table": "things",
    "dynamodb": {"table": "t", "key": {"id": "_id"}, "key_type": "string"}}]})";
  auto refused = ParseMapping(bad, "test");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(
      refused.status().message().find("tables[0].dynamodb.key_type: must be \"S\", \"N\" or \"B\""),
      std::string::npos)
      << refused.status().message();
}

// Keyset reads and checkpoints order keys as MongoDB sorts them, types by its order and
// numbers by value whatever their type.
TEST(DynamoKey, KeysOfEveryTypeAreOrderedAsMongoDbSortsThem) {
  const std::vector<Value> sorted = {
      Value(MinKey{}),
      Value(Null{}),
      Value(-7.0),
      Value(Int32{5}),
      Value(5.5),
      Value(int64_t{6}),
      Value(Decimal{"1234567890123456789012345678901234567"}),
      Value(""),
      Value("5"),
      Value("a"),
      Doc({{"a", Int32{1}}, {"b", "x"}}),
      Doc({{"a", Int32{1}}, {"b", "y"}}),
      Doc({{"a", Int32{1}}, {"b", "y"}, {"c", Int32{0}}}),
      Doc({{"b", "x"}, {"a", Int32{1}}}),
      Value(Array{{Int32{1}}}),
      Value(Bytes{"\x09", 0}),
      Value(Bytes{"\x01\x02", 0}),
      Oid("65a1b2c3d4e5f60718293a4b"),
      Value(false),
      Value(true),
      Value(BsonDate{0}),
      Value(BsonTimestamp{7, 3}),
      Value(Regex{"a", ""}),
      Value(MaxKey{}),
  };
  for (size_t i = 0; i < sorted.size(); ++i)
    for (size_t j = 0; j < sorted.size(); ++j) {
      const int want = i < j ? -1 : i > j ? 1 : 0;
      const int got = CompareValues(sorted[i], sorted[j]);
      EXPECT_EQ(got < 0   ? -1
                : got > 0 ? 1
                          : 0,
                want)
          << MongoKeyText(sorted[i]) << " vs " << MongoKeyText(sorted[j]);
    }
}

// A checkpoint keeps a key of any type, to resume after it.
TEST(DynamoKey, CheckpointPositionsKeepKeysOfEveryType) {
  for (const auto& [id, text] : TextCases()) {
    Position p{Null{}, {id}};
    auto back = DecodePosition(EncodePosition(p));
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().message();
    ASSERT_EQ(back->key.size(), 1u);
    EXPECT_EQ(back->key[0], id) << text << " came back as " << MongoKeyText(back->key[0]);
  }
}

}  // namespace
}  // namespace di
