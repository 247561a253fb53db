// MAPPING_FILE parsing: the docs/dynamodb-mapping.md example, defaults, and every kind of shape
// error named, each the same in JSON and YAML (YAML's own errors: mapping_yaml_test.cpp).
#include <gtest/gtest.h>

#include <sstream>

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

// The spec example in block YAML, with comments and anchors.
const char* kSpecExampleYaml = R"(# docs/dynamodb-mapping.md's example
tables:
  - source: postgresql
    database: cinema_reservations
    table: reservations
    primary_key: [id]
    cursor: updated_at
    backup: true
    dynamodb:
      table: cinema-reservations
      key: {reservation_id: id}
      indexes:
        - {name: user_id-index, hash: user_id, range: &created created_at}
        - name: movie_id-index
          hash: movie_id
          range: *created
      embed:
        - table: reserved_seats
          match: &by_reservation
            reservation_id: id
          as: seats
          many: true
        - table: payments
          match: *by_reservation
          as: payment
          many: false
  - source: mysql
    table: seats
)";

// Every field of a parsed mapping, one line a table, index and embed, to compare two parses.
std::string Show(const std::vector<TableMapping>& mapping) {
  std::ostringstream out;
  for (const auto& m : mapping) {
    out << m.Name() << "@" << m.database << " key";
    for (const auto& c : m.primary_key) out << " " << c;
    out << " cursor " << m.cursor << (m.cursor_given ? " (given)" : "") << " backup " << m.backup
        << "\n";
    if (!m.dynamodb) continue;
    const DynamoTarget& d = *m.dynamodb;
    out << "  to " << d.table << " " << d.key_attribute << "=" << d.key_column << "\n";
    for (const auto& ix : d.indexes)
      out << "  index " << ix.name << " " << ix.hash.name << " "
          << (ix.range ? ix.range->name : "-") << "\n";
    for (const auto& e : d.embed)
      out << "  embed " << e.table << " " << e.child_column << "=" << e.parent_column << " as "
          << e.as << (e.many ? " many" : " one") << "\n";
  }
  return out.str();
}

TEST(MappingTest, TheSpecExampleInYamlParsesAsInJson) {
  auto json = ParseMapping(kSpecExample, "test");
  auto yaml = ParseMapping(kSpecExampleYaml, "test", MappingFormat::kYaml);
  ASSERT_TRUE(json.ok()) << json.status().message();
  ASSERT_TRUE(yaml.ok()) << yaml.status().message();
  EXPECT_EQ(Show(*yaml), Show(*json));
  EXPECT_NE(Show(*json).find("embed payments reservation_id=id as payment one"), std::string::npos)
      << Show(*json);
  // JSON is YAML's flow style: the JSON text read as YAML gives the same.
  auto flow = ParseMapping(kSpecExample, "test", MappingFormat::kYaml);
  ASSERT_TRUE(flow.ok()) << flow.status().message();
  EXPECT_EQ(Show(*flow), Show(*json));
}

void ExpectError(const std::string& doc, const std::vector<std::string>& wants) {
  auto m = ParseMapping(doc, "map.json");
  ASSERT_FALSE(m.ok()) << doc;
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  for (const auto& w : wants)
    EXPECT_NE(m.status().message().find(w), std::string::npos)
        << "want '" << w << "' in: " << m.status().message();
}

// A shape error written in JSON and in YAML, and what its message names.
struct ShapeCase {
  std::string json, yaml;
  std::vector<std::string> wants;
};

const std::vector<ShapeCase> kShapeCases = {
    {"[]", "- a\n- b\n", {"expected {\"tables\""}},
    {R"({"tables": []})", "tables: []\n", {"tables: is empty"}},
    {R"({"tables": [{"source": "oracle", "table": "t"}]})",
     "tables:\n- source: oracle\n  table: t\n",
     {"tables[0].source", "unknown engine 'oracle'"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "curser": "x"}]})",
     "tables:\n  - source: mysql\n    table: t\n    curser: x\n",
     {"tables[0].curser: unknown field", "cursor"}},
    {R"({"tables": [{"source": "mysql"}]})",
     "tables:\n  - source: mysql\n",
     {"tables[0].table: missing"}},
    // YAML 1.1's yes is a string in YAML 1.2, refused as JSON's "yes" is.
    {R"({"tables": [{"source": "mysql", "table": "t", "backup": "yes"}]})",
     "tables:\n  - {source: mysql, table: t, backup: yes}\n",
     {"tables[0].backup: must be true or false"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "backup": "true"}]})",
     "tables:\n  - {source: mysql, table: t, backup: 'true'}\n",
     {"tables[0].backup: must be true or false"}},
    {R"({"tables": [{"source": "mysql", "table": 123}]})",
     "tables:\n  - source: mysql\n    table: 123\n",
     {"tables[0].table: must be a non-empty string"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "database": null}]})",
     "tables:\n  - source: mysql\n    table: t\n    database:\n",
     {"tables[0].database: must be a non-empty string"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "primary_key": []}]})",
     "tables:\n  - source: mysql\n    table: t\n    primary_key: []\n",
     {"tables[0].primary_key"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "backup": false}]})",
     "tables:\n  - source: mysql\n    table: t\n    backup: false\n",
     {"neither backed up nor mapped"}},
    {R"({"tables": [{"source": "mysql", "table": "t"}, {"source": "mariadb", "table": "t"}]})",
     "tables:\n  - {source: mysql, table: t}\n  - {source: mariadb, table: t}\n",
     {"tables[1]: table mysql.t is listed twice"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "dynamodb": {"table": "x", "key": {"a": "id", "b": "c"}}}]})",
     "tables:\n  - source: mysql\n    table: t\n    dynamodb:\n      table: x\n      key:\n"
     "        a: id\n        b: c\n",
     {"tables[0].dynamodb.key: must be an object with one entry"}},
    {R"({"tables": [{"source": "mysql", "table": "t", "dynamodb": {"table": "x", "key": {"a": "id"}, "indexes": [{"name": "i"}], "embed": [{"table": "c", "as": "kids", "match": {"p": "id"}, "many": 1}]}}]})",
     "tables:\n  - source: mysql\n    table: t\n    dynamodb:\n      table: x\n      key: {a: id}\n"
     "      indexes:\n        - name: i\n      embed:\n        - table: c\n          as: kids\n"
     "          match: {p: id}\n          many: 1\n",
     {"tables[0].dynamodb.indexes[0].hash: missing", "tables[0].dynamodb.embed[0].many"}},
    // Every problem at once, not the first only.
    {R"({"tables": [{"source": "x", "table": "t"}, {"source": "mysql", "tabel": "u"}]})",
     "tables:\n  - source: x\n    table: t\n  - source: mysql\n    tabel: u\n",
     {"tables[0].source", "tables[1].tabel: unknown field", "tables[1].table: missing"}},
};

TEST(MappingTest, NamesEveryShapeError) {
  ExpectError("{", {"map.json is not valid JSON"});
  for (const auto& c : kShapeCases) ExpectError(c.json, c.wants);
}

TEST(MappingTest, AYamlFileGetsTheSameMessageAsTheSameJsonFile) {
  for (const auto& c : kShapeCases) {
    auto json = ParseMapping(c.json, "map");
    auto yaml = ParseMapping(c.yaml, "map", MappingFormat::kYaml);
    ASSERT_FALSE(json.ok()) << c.json;
    ASSERT_FALSE(yaml.ok()) << c.yaml;
    EXPECT_EQ(yaml.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(yaml.status().message(), json.status().message()) << c.yaml;
  }
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
