// SYNC_DELETES=true: `--mode sync` deletes from DynamoDB and the warehouse the rows the
// sources no longer have — on test-owned tables of the three engines with more rows than a
// DynamoDB scan page: an integer key (PostgreSQL), a composite text key (PostgreSQL, warehouse
// only), a text key in a case-insensitive collation (MariaDB), and MongoDB `_id`s of many BSON
// types. Without it nothing is deleted; with it every target's keys equal the source's, each
// read back independently (the AWS CLI, psql, mariadb); a second run deletes nothing; a bad
// value is refused naming the variable.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

class SyncDeletesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string n = std::to_string(getpid());
    wh_ = "di_sd_" + n;
    ints_ = "sd_ints_" + n;
    pairs_ = "sd_pairs_" + n;
    codes_ = "sd_codes_" + n;
    mongo_db_ = "di_sd_" + n;
    PsqlOn("postgres", "DROP DATABASE IF EXISTS " + wh_);
    ASSERT_EQ(PsqlOn("postgres", "CREATE DATABASE " + wh_), "");
    dir_ = fs::temp_directory_path() / UniqueName("di-sync-deletes");
    fs::create_directories(dir_);
    mongoc_init();
    const std::string& uri = StackConfig().mongo.uri;
    mongo_base_ = uri.substr(0, uri.rfind('/'));
    client_ = mongoc_client_new(mongo_base_.c_str());
    DropSources();
  }
  void TearDown() override {
    DropSources();
    mongoc_client_destroy(client_);
    PsqlOn("postgres", "DROP DATABASE IF EXISTS " + wh_);
    std::string out;
    for (const auto& t :
         {Dynamo("ints"), Dynamo("codes"), Dynamo("docs"), Dynamo("bins"), "state-" + s_})
      RunCommand(AwsCli() + "dynamodb delete-table --table-name " + t, &out);
    fs::remove_all(dir_);
  }
  void DropSources() {
    PsqlOn(Pg(), "DROP TABLE IF EXISTS " + ints_ + ", " + pairs_);
    MariaDbOn(My(), "DROP TABLE IF EXISTS " + codes_);
    mongoc_database_t* d = mongoc_client_get_database(client_, mongo_db_.c_str());
    bson_error_t e;
    mongoc_database_drop(d, &e);
    mongoc_database_destroy(d);
  }
  static std::string Pg() { return StackConfig().postgres.database; }
  static std::string My() { return StackConfig().mysql.database; }
  std::string Dynamo(const std::string& what) const { return "sd-" + what + "-" + s_; }

  void MakeSources() {
    ASSERT_EQ(PsqlOn(Pg(), "CREATE TABLE " + ints_ +
                               " (id bigint PRIMARY KEY, name text NOT NULL, updated_at "
                               "timestamptz NOT NULL DEFAULT now()); INSERT INTO " +
                               ints_ +
                               " (id, name) SELECT g, 'row ' || g FROM generate_series(1, 2500) g"),
              "");
    ASSERT_EQ(PsqlOn(Pg(), "CREATE TABLE " + pairs_ +
                               " (region text, code text, n int, updated_at timestamptz NOT NULL "
                               "DEFAULT now(), PRIMARY KEY (region, code)); INSERT INTO " +
                               pairs_ +
                               " (region, code, n) SELECT r, 'c' || g, g FROM unnest(ARRAY['a', "
                               "'B', 'b', 'ñ']) r, generate_series(1, 400) g"),
              "");
    ASSERT_EQ(MariaDbOn(My(), "CREATE TABLE " + codes_ +
                                  " (code varchar(40) COLLATE utf8mb4_general_ci PRIMARY KEY, n "
                                  "int NOT NULL, updated_at timestamp(6) NOT NULL DEFAULT "
                                  "current_timestamp(6)); INSERT INTO " +
                                  codes_ +
                                  " (code, n) SELECT CONCAT('Código-', seq), seq FROM "
                                  "seq_1_to_1500; INSERT INTO " +
                                  codes_ + " (code, n) VALUES ('Ñandú', 0), ('a b', 0)"),
              "");
    mongoc_collection_t* c = mongoc_client_get_collection(client_, mongo_db_.c_str(), "docs");
    std::vector<std::string> docs;
    for (int i = 1; i <= 1200; ++i) {
      char oid[25];
      snprintf(oid, sizeof oid, "65a1b2c3d4e5f607%08x", i);
      docs.push_back("{\"_id\":{\"$oid\":\"" + std::string(oid) + "\"},\"n\":" + std::to_string(i) +
                     "}");
    }
    for (const char* id :
         {"{\"$numberInt\":\"5\"}", "\"5\"", "\"\"", "{\"k\":\"v\"}", "{\"$numberLong\":\"6\"}",
          "{\"$numberDouble\":\"5.5\"}", "true", "{\"$date\":{\"$numberLong\":\"1735689600000\"}}",
          "{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"04\"}}"})
      docs.push_back("{\"_id\":" + std::string(id) + ",\"n\":0}");
    for (const auto& d : docs) {
      bson_error_t e;
      bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(d.data()),
                                     static_cast<ssize_t>(d.size()), &e);
      ASSERT_TRUE(b) << d << ": " << e.message;
      ASSERT_TRUE(mongoc_collection_insert_one(c, b, nullptr, nullptr, &e)) << d << e.message;
      bson_destroy(b);
    }
    mongoc_collection_destroy(c);
  }
  // Deletes in every source, across scan pages (442, 210, 302 and 204 rows).
  void DeleteSome() {
    ASSERT_EQ(
        PsqlOn(Pg(), "DELETE FROM " + ints_ + " WHERE id % 7 = 0 OR id BETWEEN 1001 AND 1100"), "");
    ASSERT_EQ(PsqlOn(Pg(), "DELETE FROM " + pairs_ +
                               " WHERE (region = 'B' AND n % 2 = 0) OR (region = 'ñ' AND n > 390)"),
              "");
    ASSERT_EQ(MariaDbOn(My(), "DELETE FROM " + codes_ +
                                  " WHERE code IN ('Ñandú', 'Código-1') OR (n > 0 AND n % 5 = 0)"),
              "");
    mongoc_collection_t* c = mongoc_client_get_collection(client_, mongo_db_.c_str(), "docs");
    for (const char* filter :
         {"{\"n\":{\"$gt\":1000}}", "{\"_id\":{\"$numberInt\":\"5\"}}", "{\"_id\":{\"k\":\"v\"}}",
          "{\"_id\":\"\"}", "{\"_id\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"04\"}}}"}) {
      bson_error_t e;
      bson_t* f = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter), -1, &e);
      ASSERT_TRUE(f) << filter << e.message;
      ASSERT_TRUE(mongoc_collection_delete_many(c, f, nullptr, nullptr, &e)) << filter << e.message;
      bson_destroy(f);
    }
    mongoc_collection_destroy(c);
  }
  std::string Mapping() {
    std::string path = (dir_ / "mapping.json").string();
    std::ofstream(path) << R"({"tables": [
      {"source": "postgresql", "table": ")" +
                               ints_ + R"(", "dynamodb": {"table": ")" + Dynamo("ints") +
                               R"(", "key": {"item_id": "id"}}},
      {"source": "postgresql", "table": ")" +
                               pairs_ + R"("},
      {"source": "mysql", "table": ")" +
                               codes_ + R"(", "dynamodb": {"table": ")" + Dynamo("codes") +
                               R"(", "key": {"code_id": "code"}}},
      {"source": "mongodb", "database": ")" +
                               mongo_db_ + R"(", "table": "docs", "dynamodb": {"table": ")" +
                               Dynamo("docs") + R"(", "key": {"id": "_id"}, "key_type": "S"}}]})";
    return path;
  }
  // The environment's exports ("... && "), then (Env) the binary.
  std::string Exports(const std::string& extra = "") {
    const Config& c = StackConfig();
    return StackEnvShell() + "export ANALYTICS_DATABASE_URL=postgresql://" + c.postgres.user + ":" +
           c.postgres.password + "@" + c.postgres.host + ":" + std::to_string(c.postgres.port) +
           "/" + wh_ + " MAPPING_FILE=" + mapping_ + " S3_BUCKET_NAME=file://" +
           (dir_ / "store").string() + " DYNAMODB_STATE_TABLE=state-" + s_ +
           " LOG_FILE=" + (dir_ / "di.log").string() + " MONGODB_URI=" + mongo_base_ + "/" +
           mongo_db_ + " " + extra + " && ";
  }
  std::string Env(const std::string& extra = "") { return Exports(extra) + DI_BINARY + " "; }
  int64_t Items(const std::string& table) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb scan --select COUNT --table-name " + table, &out), 0)
        << out;
    return json::parse(out, nullptr, false).value("Count", int64_t{-1});
  }
  // Each target's keys and the source's, read back by other clients, as sets of texts.
  struct Keys {
    std::set<std::string> source, dynamodb, warehouse;
  };
  std::set<std::string> DynamoKeys(const std::string& table, const std::string& attribute) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb scan --table-name " + table, &out), 0) << out;
    std::set<std::string> keys;
    const json scanned = json::parse(out, nullptr, false);
    EXPECT_TRUE(scanned.contains("Items")) << out.substr(0, 500);
    for (const auto& item : scanned.value("Items", json::array())) {
      const json& k = item[attribute];
      keys.insert(k.contains("N") ? k["N"].get<std::string>() : k["S"].get<std::string>());
    }
    return keys;
  }
  Keys IntKeys() {
    return {Lines(PsqlOn(Pg(), "SELECT id FROM " + ints_)), DynamoKeys(Dynamo("ints"), "item_id"),
            Lines(PsqlOn(wh_, "SELECT id FROM postgresql." + ints_))};
  }
  Keys PairKeys() {
    const std::string sql = "SELECT region || '/' || code FROM ";
    return {
        Lines(PsqlOn(Pg(), sql + pairs_)), {}, Lines(PsqlOn(wh_, sql + "postgresql." + pairs_))};
  }
  Keys CodeKeys() {
    return {Lines(MariaDbOn(My(), "SELECT code FROM " + codes_)),
            DynamoKeys(Dynamo("codes"), "code_id"),
            Lines(PsqlOn(wh_, "SELECT code FROM mysql." + codes_))};
  }
  int64_t MongoCount() {
    mongoc_collection_t* c = mongoc_client_get_collection(client_, mongo_db_.c_str(), "docs");
    bson_t all = BSON_INITIALIZER;
    bson_error_t e;
    int64_t n = mongoc_collection_count_documents(c, &all, nullptr, nullptr, nullptr, &e);
    mongoc_collection_destroy(c);
    return n;
  }

  std::string wh_, ints_, pairs_, codes_, mongo_db_, mongo_base_, mapping_;
  fs::path dir_;
  mongoc_client_t* client_ = nullptr;
  std::string s_ = UniqueName("sd");
};

TEST_F(SyncDeletesTest, RowsGoneFromTheSourcesLeaveDynamoDbAndTheWarehouse) {
  MakeSources();
  mapping_ = Mapping();
  std::string out;
  ASSERT_EQ(RunCommand(Env() + "--mode setup", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + "--mode sync", &out), 0) << out;
  EXPECT_EQ(Items(Dynamo("ints")), 2500);
  EXPECT_EQ(Items(Dynamo("docs")), 1209);
  // Every `_id` its own row in the warehouse too (the int 5 and the string "5" were one).
  EXPECT_EQ(PsqlOn(wh_, "SELECT count(*) FROM mongodb.docs"), "1209");
  DeleteSome();

  // Without SYNC_DELETES a sync sees no delete: every target keeps what it had.
  ASSERT_EQ(RunCommand(Env() + "--mode sync", &out), 0) << out;
  EXPECT_EQ(out.find("deleted"), std::string::npos) << out;
  EXPECT_EQ(Items(Dynamo("ints")), 2500);
  EXPECT_EQ(PsqlOn(wh_, "SELECT count(*) FROM postgresql." + pairs_), "1600");

  ASSERT_EQ(RunCommand(Env("SYNC_DELETES=true") + "--mode sync", &out), 0) << out;
  EXPECT_NE(out.find("postgresql." + ints_ + " -> " + Dynamo("ints") +
                     ": 0 items written, 442 deleted (gone from the source)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("postgresql." + ints_ + " -> warehouse: 0 rows, 442 deleted"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("postgresql." + pairs_ + " -> warehouse: 0 rows, 210 deleted"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("mongodb.docs -> " + Dynamo("docs") + ": 0 items written, 204 deleted"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("mongodb.docs -> warehouse: 0 rows, 204 deleted"), std::string::npos) << out;

  Keys ints = IntKeys();
  EXPECT_EQ(ints.source.size(), 2058u);
  EXPECT_EQ(ints.dynamodb, ints.source);
  EXPECT_EQ(ints.warehouse, ints.source);
  Keys pairs = PairKeys();
  EXPECT_EQ(pairs.source.size(), 1390u);
  EXPECT_EQ(pairs.warehouse, pairs.source);
  Keys codes = CodeKeys();
  EXPECT_EQ(codes.source.size(), 1200u);
  EXPECT_EQ(codes.dynamodb, codes.source);
  EXPECT_EQ(codes.warehouse, codes.source);
  EXPECT_EQ(codes.source.count("a b"), 1u);
  EXPECT_EQ(codes.source.count("Ñandú"), 0u);
  EXPECT_EQ(MongoCount(), 1005);
  EXPECT_EQ(Items(Dynamo("docs")), 1005);
  EXPECT_EQ(PsqlOn(wh_, "SELECT count(*) FROM mongodb.docs"), "1005");
  // The `_id`s of other types that stayed are still there, those deleted are gone.
  std::string got;
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb get-item --table-name " + Dynamo("docs") +
                           " --key '{\"id\":{\"S\":\"5\"}}'",
                       &got),
            0);
  EXPECT_NE(got.find("Item"), std::string::npos) << got;  // the string "5" stays
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb get-item --table-name " + Dynamo("docs") +
                           " --key '{\"id\":{\"S\":\"{\\\"$numberInt\\\":\\\"5\\\"}\"}}'",
                       &got),
            0);
  EXPECT_EQ(got.find("Item"), std::string::npos) << got;  // the int 5 is gone

  // Nothing more is gone: a second run deletes nothing.
  ASSERT_EQ(RunCommand(Env("SYNC_DELETES=true") + "--mode sync", &out), 0) << out;
  EXPECT_NE(out.find(Dynamo("ints") + ": 0 items written, 0 deleted"), std::string::npos) << out;
  EXPECT_NE(out.find("postgresql." + pairs_ + " -> warehouse: 0 rows, 0 deleted"),
            std::string::npos)
      << out;

  // Through the API, as a user would with curl: the job says what it deleted, and so does
  // /metrics.
  ASSERT_EQ(PsqlOn(Pg(), "DELETE FROM " + ints_ + " WHERE id <= 10"), "");
  {
    const int port = FreeLoopbackPort();
    ApiProcess api(Exports("SYNC_DELETES=true"), port);
    ASSERT_TRUE(api.up()) << api.Output();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_EQ(RunCommand("curl -sf -X POST '" + base + "/sync/" + ints_ + "?wait=true'", &out), 0)
        << out;
    json job = json::parse(out, nullptr, false);
    EXPECT_EQ(job.value("state", ""), "succeeded") << out;
    std::multiset<int64_t> deleted;
    for (const auto& t : job["result"]["tables"]) deleted.insert(t.value("deleted", int64_t{-1}));
    EXPECT_EQ(deleted, (std::multiset<int64_t>{9, 9})) << out;  // 7 was gone already
    ASSERT_EQ(RunCommand("curl -sf " + base + "/metrics", &out), 0) << out;
    EXPECT_NE(
        out.find("di_rows_deleted_total{table=\"postgresql." + ints_ + "\",target=\"dynamodb\"} 9"),
        std::string::npos)
        << out;
    EXPECT_NE(out.find("di_rows_deleted_total{table=\"postgresql." + ints_ +
                       "\",target=\"warehouse\"} 9"),
              std::string::npos)
        << out;
  }

  EXPECT_EQ(RunCommand(Env("SYNC_DELETES=maybe") + "--mode sync", &out), 2) << out;
  EXPECT_NE(out.find("SYNC_DELETES"), std::string::npos) << out;

  // Keys that cannot be looked up exactly (binary `_id`s: DynamoDB's B keeps no subtype) are
  // never taken for gone: that target fails saying why, and its items stay.
  mongoc_collection_t* c = mongoc_client_get_collection(client_, mongo_db_.c_str(), "bins");
  for (const char* d : {"{\"_id\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"04\"}}}",
                        "{\"_id\":{\"$binary\":{\"base64\":\"AwQF\",\"subType\":\"00\"}}}"}) {
    bson_error_t e;
    bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(d), -1, &e);
    ASSERT_TRUE(b) << e.message;
    ASSERT_TRUE(mongoc_collection_insert_one(c, b, nullptr, nullptr, &e)) << e.message;
    bson_destroy(b);
  }
  mongoc_collection_destroy(c);
  mapping_ = (dir_ / "bins.json").string();
  std::ofstream(mapping_) << R"({"tables": [{"source": "mongodb", "database": ")" + mongo_db_ +
                                 R"(", "table": "bins", "dynamodb": {"table": ")" + Dynamo("bins") +
                                 R"(", "key": {"id": "_id"}, "key_type": "B"}}]})";
  ASSERT_EQ(RunCommand(Env() + "--mode setup", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env("SYNC_DELETES=true") + "--mode sync", &out), 1) << out;
  EXPECT_NE(out.find("mongodb.bins -> " + Dynamo("bins") +
                     ": FAILED: deleting what the source no longer has: a MongoDB collection "
                     "whose DynamoDB keys are B cannot be checked"),
            std::string::npos)
      << out;
  EXPECT_EQ(Items(Dynamo("bins")), 2);
}

}  // namespace
}  // namespace di::testing
