// MAPPING_FILE parsing: the docs/dynamodb-mapping.md example, defaults, and every kind of shape
// error named.
#include <gtest/gtest.h>

#include "pipeline/mapping.h"
#include "pipeline/setup.h"

namespace di {
namespace {

const char* kSpecExample = R"({
  "tables": [
    {
      "source": "postgresql",
      "database": "cinema_reservations",
      "table": "reservations",
      "primary_key": ["id"],
      "cursor": "updated_at",
      "backup": true,
      "dynamodb": {
        "table": "cinema-reservations",
        "key": {"reservation_id": "id"},
        "indexes": [
          {"name": "user_id-index", "hash": "user_id", "range": "created_at"},
          {"name": "movie_id-index", "hash": "movie_id", "range": "created_at"}
        ],
        "embed": [
          {"table": "reserved_seats", "match": {"reservation_id": "id"}, "as": "seats", "many": true},
          {"table": "payments", "match": {"reservation_id": "id"}, "as": "payment", "many": false}
        ]
      }
    },
    {"source": "mysql", "table": "seats"}
  ]
})";

TEST(MappingTest, ParsesTheSpecExample) {
  auto m = ParseMapping(kSpecExample, "test");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 2u);
  const TableMapping& r = (*m)[0];
  EXPECT_EQ(r.engine, Engine::kPostgres);
  EXPECT_EQ(r.database, "cinema_reservations");
  EXPECT_EQ(r.primary_key, std::vector<std::string>{"id"});
  EXPECT_TRUE(r.cursor_given);
  ASSERT_TRUE(r.dynamodb);
  EXPECT_EQ(r.dynamodb->table, "cinema-reservations");
  EXPECT_EQ(r.dynamodb->key_attribute, "reservation_id");
  EXPECT_EQ(r.dynamodb->key_column, "id");
  EXPECT_EQ(r.dynamodb->key_type, "");
  ASSERT_EQ(r.dynamodb->indexes.size(), 2u);
  EXPECT_EQ(r.dynamodb->indexes[1].name, "movie_id-index");
  EXPECT_EQ(r.dynamodb->indexes[1].range->name, "created_at");
  EXPECT_EQ(r.dynamodb->IndexKeys(),
            (std::vector<std::string>{"user_id", "created_at", "movie_id", "created_at"}));
  ASSERT_EQ(r.dynamodb->embed.size(), 2u);
  EXPECT_EQ(r.dynamodb->embed[0].child_column, "reservation_id");
  EXPECT_EQ(r.dynamodb->embed[0].parent_column, "id");
  EXPECT_FALSE(r.dynamodb->embed[1].many);
  // Defaults: configured database, discovered key, updated_at cursor, backed up, no target.
  const TableMapping& s = (*m)[1];
  EXPECT_EQ(s.engine, Engine::kMySql);
  EXPECT_EQ(s.database, "");
  EXPECT_TRUE(s.primary_key.empty());
  EXPECT_EQ(s.cursor, "updated_at");
  EXPECT_FALSE(s.cursor_given);
  EXPECT_TRUE(s.backup);
  EXPECT_FALSE(s.dynamodb);
}

void ExpectError(const std::string& doc, const std::vector<std::string>& wants) {
  auto m = ParseMapping(doc, "map.json");
  ASSERT_FALSE(m.ok()) << doc;
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  for (const auto& w : wants)
    EXPECT_NE(m.status().message().find(w), std::string::npos)
        << "want '" << w << "' in: " << m.status().message();
}

TEST(MappingTest, NamesEveryShapeError) {
  ExpectError("{", {"map.json is not valid JSON"});
  ExpectError("[]", {"expected {\"tables\""});
  ExpectError(R"({"tables": []})", {"tables: is empty"});
  ExpectError(R"({"tables": [{"source": "oracle", "table": "t"}]})",
              {"tables[0].source", "unknown engine 'oracle'"});
  ExpectError(R"({"tables": [{"source": "mysql", "table": "t", "curser": "x"}]})",
              {"tables[0].curser: unknown field", "cursor"});
  ExpectError(R"({"tables": [{"source": "mysql"}]})", {"tables[0].table: missing"});
  ExpectError(R"({"tables": [{"source": "mysql", "table": "t", "backup": "yes"}]})",
              {"tables[0].backup: must be true or false"});
  ExpectError(R"({"tables": [{"source": "mysql", "table": "t", "primary_key": []}]})",
              {"tables[0].primary_key"});
  ExpectError(R"({"tables": [{"source": "mysql", "table": "t", "backup": false}]})",
              {"neither backed up nor mapped"});
  ExpectError(
      R"({"tables": [{"source": "mysql", "table": "t"}, {"source": "mariadb", "table": "t"}]})",
      {"tables[1]: table mysql.t is listed twice"});
  ExpectError(
      R"({"tables": [{"source": "mysql", "table": "t", "dynamodb": {"table": "x", "key": {"a": "id", "b": "c"}}}]})",
      {"tables[0].dynamodb.key: must be an object with one entry"});
  ExpectError(
      R"({"tables": [{"source": "mysql", "table": "t", "dynamodb": {"table": "x", "key": {"a": "id"}, "indexes": [{"name": "i"}], "embed": [{"table": "c", "as": "kids", "match": {"p": "id"}, "many": 1}]}}]})",
      {"tables[0].dynamodb.indexes[0].hash: missing", "tables[0].dynamodb.embed[0].many"});
  // Every problem at once, not the first only.
  ExpectError(R"({"tables": [{"source": "x", "table": "t"}, {"source": "mysql", "tabel": "u"}]})",
              {"tables[0].source", "tables[1].tabel: unknown field", "tables[1].table: missing"});
}

TEST(MappingTest, CinemaMappingUsesConfiguredNames) {
  DynamoSettings names;
  names.reservations_table = "r-test";
  auto m = CinemaMapping(names);
  ASSERT_EQ(m.size(), 9u);
  int mapped = 0;
  for (const auto& t : m) {
    EXPECT_TRUE(t.backup);
    if (t.dynamodb) ++mapped;
    if (t.table == "reservations") {
      EXPECT_EQ(t.dynamodb->table, "r-test");
    }
  }
  EXPECT_EQ(mapped, 4);
}

TEST(MappingTest, AttributeTypeFromSourceType) {
  for (const char* n : {"int(10) unsigned", "bigint", "smallint", "decimal(10,2)", "numeric",
                        "double precision", "integer", "tinyint(3) unsigned"})
    EXPECT_EQ(AttributeTypeFor(n), "N") << n;
  for (const char* s : {"varchar(120)", "text", "timestamp with time zone", "integer[]", "interval",
                        "char(24)", "datetime(6)", "json"})
    EXPECT_EQ(AttributeTypeFor(s), "S") << s;
}

// The replication slot of each mapped PostgreSQL database (slots are per server).
TEST(StreamSlotName, TheConfiguredDatabaseHasTheSlotOthersASuffixedOne) {
  Config c;
  c.stream.slot = "di";
  EXPECT_EQ(StreamSlotName(c, ""), "di");
  EXPECT_EQ(StreamSlotName(c, c.postgres.database), "di");
  EXPECT_EQ(StreamSlotName(c, "Pagila-2"), "di_pagila_2");
  EXPECT_EQ(StreamSlotName(c, std::string(80, 'x')).size(), 63u);
}

}  // namespace
}  // namespace di
