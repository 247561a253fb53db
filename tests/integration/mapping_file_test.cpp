// MAPPING_FILE end to end: tables of other databases (Sakila, Pagila) set up, migrated,
// backed up and verified through the binary, read back with the AWS CLI; and a file that
// does not match the databases refused before any work, naming each problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class MappingFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / UniqueName("di-mapping");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& text, const std::string& name = "mapping.json") {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string Env(const std::string& mapping) {
    return StackEnvShell() + "export MAPPING_FILE=" + mapping + " S3_BUCKET_NAME=file://" +
           (dir_ / "store").string() + " DYNAMODB_STATE_TABLE=state-" + s_ + " && ";
  }
  // The mismatch file of AFileThatDoesNotMatchTheDatabases... is refused before any work,
  // each problem named.
  void ExpectMismatchRefused(const std::string& mapping) {
    std::string out;
    EXPECT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode migrate", &out), 2) << out;
    for (const char* want :
         {"tables[0] (mysql.rooms).cursor: column 'changed_at' is not in mysql.rooms",
          "tables[0] (mysql.rooms).dynamodb.key: column 'room_no' is not in mysql.rooms",
          "tables[0] (mysql.rooms).dynamodb.indexes.i: column 'colour'",
          "tables[0] (mysql.rooms).dynamodb.embed.match: column 'room' is not in mysql.seats",
          "tables[1] (postgresql.no_such_table)"})
      EXPECT_NE(out.find(want), std::string::npos) << "want '" << want << "' in:\n" << out;
    // Nothing was written.
    EXPECT_FALSE(fs::exists(dir_ / "store"));
  }
  fs::path dir_;
  std::string s_ = UniqueName("map");
};

TEST_F(MappingFileTest, TablesOfOtherDatabasesAreSetUpMigratedBackedUpAndVerified) {
  if (!TestDataPresent("sakila") || !TestDataPresent("pagila"))
    GTEST_SKIP() << "reference data 'sakila'/'pagila' not found under " << TestDataDir()
                 << " (set TESTDATA_DIR)";
  std::string films = "films-" + s_;
  std::string mapping = Write(R"({"tables": [
    {"source": "mysql", "database": "sakila", "table": "film", "cursor": "last_update",
     "dynamodb": {"table": ")" +
                              films + R"(", "key": {"film_id": "film_id"},
                  "indexes": [{"name": "language-index", "hash": "language_id", "range": "title"}],
                  "embed": [{"table": "film_actor", "match": {"film_id": "film_id"},
                             "as": "actors", "many": true}]}},
    {"source": "postgresql", "database": "pagila", "table": "actor"}
  ]})");
  std::string out;
  ASSERT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_NE(out.find("DynamoDB table " + films + " (indexes: language-index)"), std::string::npos)
      << out;
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb describe-table --table-name " + films, &out), 0) << out;
  json t = json::parse(out)["Table"];
  std::map<std::string, std::string> types;
  for (const auto& a : t["AttributeDefinitions"]) types[a["AttributeName"]] = a["AttributeType"];
  EXPECT_EQ(types["film_id"], "N");      // smallint unsigned
  EXPECT_EQ(types["language_id"], "N");  // tinyint unsigned
  EXPECT_EQ(types["title"], "S");

  ASSERT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_NE(out.find("mysql.film -> " + films + ": 1000 items written"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb get-item --table-name " + films +
                           " --key '{\"film_id\":{\"N\":\"1\"}}'",
                       &out),
            0)
      << out;
  json item = json::parse(out)["Item"];
  EXPECT_EQ(item["title"], json({{"S", "ACADEMY DINOSAUR"}}));
  EXPECT_EQ(item["rental_rate"], json({{"N", "0.99"}}));
  EXPECT_EQ(item["actors"]["L"].size(), 10u);  // film_actor rows of film 1
  EXPECT_EQ(item["actors"]["L"][0]["M"]["film_id"], json({{"N", "1"}}));
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb scan --select COUNT --table-name " + films, &out), 0);
  EXPECT_EQ(json::parse(out)["Count"], 1000);

  // Both tables backed up (only those), under their engines.
  fs::path store = dir_ / "store" / "backups";
  EXPECT_TRUE(fs::is_directory(store / "mysql" / "film"));
  EXPECT_TRUE(fs::is_directory(store / "postgresql" / "actor"));
  EXPECT_FALSE(fs::exists(store / "mysql" / "film_actor"));

  ASSERT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_NE(out.find("OK        mysql.film: source 1000, dynamodb 1000, backup"), std::string::npos)
      << out;
  EXPECT_NE(out.find("OK        postgresql.actor: source 200"), std::string::npos) << out;

  // backup --table picks among the file's tables only.
  ASSERT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode backup --table actor", &out), 0) << out;
  EXPECT_EQ(RunCommand(Env(mapping) + DI_BINARY + " --mode backup --table rooms", &out), 2) << out;
  EXPECT_NE(out.find("table 'rooms' is not in the mapping; mapped tables: mysql.film, "
                     "postgresql.actor"),
            std::string::npos)
      << out;
}

TEST_F(MappingFileTest, AFileThatDoesNotMatchTheDatabasesIsRefusedNamingEachProblem) {
  std::string mapping = Write(R"({"tables": [
    {"source": "mysql", "table": "rooms", "cursor": "changed_at",
     "dynamodb": {"table": "x-)" +
                              s_ + R"(", "key": {"room_id": "room_no"},
                  "indexes": [{"name": "i", "hash": "colour"}],
                  "embed": [{"table": "seats", "match": {"room": "id"}, "as": "seats"}]}},
    {"source": "postgresql", "table": "no_such_table"}
  ]})");
  ExpectMismatchRefused(mapping);

  std::string out;
  std::string bad = Write(R"({"tables": [{"source": "mysql", "table": "rooms", "bakup": true}]})");
  EXPECT_EQ(RunCommand(Env(bad) + DI_BINARY + " --mode backup", &out), 2) << out;
  EXPECT_NE(out.find("tables[0].bakup: unknown field"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(Env(dir_.string() + "/missing.json") + DI_BINARY + " --mode backup", &out),
            2)
      << out;
  EXPECT_NE(out.find("MAPPING_FILE: cannot open"), std::string::npos) << out;
}

// The same file in YAML is refused with the same messages; a YAML file's own errors name
// the file, line and column; a good one is used.
TEST_F(MappingFileTest, AYamlFileIsCheckedAndUsedAsTheSameJsonFileIs) {
  ExpectMismatchRefused(Write(R"(# mapping.json of the test above, in YAML
tables:
  - source: mysql
    table: rooms
    cursor: changed_at
    dynamodb:
      table: x-)" + s_ + R"(
      key: {room_id: room_no}
      indexes: [{name: i, hash: colour}]
      embed:
        - {table: seats, match: {room: id}, as: seats}
  - source: postgresql
    table: no_such_table
)",
                              "mapping.yaml"));
  std::string out;
  std::string bad = Write("tables:\n  - {source: mysql, table: rooms, bakup: true}\n", "bad.yml");
  EXPECT_EQ(RunCommand(Env(bad) + DI_BINARY + " --mode backup", &out), 2) << out;
  EXPECT_NE(out.find("tables[0].bakup: unknown field"), std::string::npos) << out;
  std::string broken = Write("tables:\n  - source: mysql\n    table: [rooms\n", "broken.yaml");
  EXPECT_EQ(RunCommand(Env(broken) + DI_BINARY + " --mode backup", &out), 2) << out;
  EXPECT_NE(out.find("MAPPING_FILE " + broken + " is not valid YAML: line 4, column 1: "),
            std::string::npos)
      << out;

  std::string good =
      Write("tables:\n  - source: mysql\n    table: rooms  # backup only\n", "good.YAML");
  ASSERT_EQ(RunCommand(Env(good) + DI_BINARY + " --mode backup", &out), 0) << out;
  fs::path store = dir_ / "store" / "backups";
  EXPECT_TRUE(fs::is_directory(store / "mysql" / "rooms")) << out;
  EXPECT_FALSE(fs::exists(store / "mysql" / "seats")) << out;
}

}  // namespace
}  // namespace di::testing
