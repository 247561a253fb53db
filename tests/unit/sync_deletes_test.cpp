// The key decoding of SYNC_DELETES and of the stream's item rewrites (pipeline/dynamo_items.h
// LookupValueOfKey): a scanned item's key back to the value the source is asked for — exact,
// or refused; never a guess that would find no row and delete an item whose row is there.
#include "pipeline/dynamo_items.h"

#include <gtest/gtest.h>

namespace di {
namespace {

using J = nlohmann::json;

TEST(SyncDeletes, SqlKeysAreLookedUpAsTheirText) {
  EXPECT_EQ(*LookupValueOfKey(Engine::kPostgres, J{{"N", "12.50"}}), Value(Decimal{"12.50"}));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMySql, J{{"S", "Ñandú"}}), Value("Ñandú"));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMySql, J{{"B", "AQI="}}),
            Value(Bytes{std::string("\x01\x02", 2), 0}));
  EXPECT_FALSE(LookupValueOfKey(Engine::kMySql, J{{"B", "not base64!"}}).ok());
  EXPECT_FALSE(LookupValueOfKey(Engine::kPostgres, J{{"BOOL", true}}).ok());
  EXPECT_FALSE(LookupValueOfKey(Engine::kPostgres, J("5")).ok());
}

TEST(SyncDeletes, MongoKeysAreTheIdsTheirTextStandsFor) {
  ObjectId oid;
  ASSERT_TRUE(ParseObjectId("65a1b2c3d4e5f60718293a4b", &oid));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMongo, J{{"S", "65a1b2c3d4e5f60718293a4b"}}), Value(oid));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMongo, J{{"S", "5"}}), Value("5"));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMongo, J{{"S", "{\"$numberInt\":\"5\"}"}}), Value(Int32{5}));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMongo, J{{"N", "9007199254740993"}}),
            Value(int64_t{9007199254740993}));
  EXPECT_EQ(*LookupValueOfKey(Engine::kMongo, J{{"N", "2.5"}}), Value(2.5));
  EXPECT_FALSE(LookupValueOfKey(Engine::kMongo, J{{"N", "1e999"}}).ok());
  auto binary = LookupValueOfKey(Engine::kMongo, J{{"B", "AQI="}});
  ASSERT_FALSE(binary.ok());
  EXPECT_NE(binary.status().message().find("subtype"), std::string::npos);
}

}  // namespace
}  // namespace di
