// `--mode sync`: inserts, updates and updates sharing one timestamp (across a batch
// boundary) in the three databases reach DynamoDB; watermarks live in the state table; a
// second sync finds nothing; --since re-reads from a time. The seed is restored afterwards.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;

class SyncTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::string out;
    EXPECT_EQ(Reseed(&out), 0) << out;
  }
  std::string Env(const std::string& extra = "") {
    return StackEnvShell() + "env S3_BUCKET_NAME=di-" + s_ + " DYNAMODB_MOVIES_TABLE=movies-" + s_ +
           " DYNAMODB_ROOMS_TABLE=rooms-" + s_ + " DYNAMODB_RESERVATIONS_TABLE=res-" + s_ +
           " DYNAMODB_USERS_TABLE=users-" + s_ + " DYNAMODB_STATE_TABLE=state-" + s_ + " " + extra +
           " " + DI_BINARY + " ";
  }
  json Get(const std::string& table, const std::string& key_json) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb get-item --table-name " + table + "-" + s_ +
                             " --key '" + key_json + "'",
                         &out),
              0)
        << out;
    return out.empty() ? json() : json::parse(out)["Item"];
  }
  int Count(const std::string& table) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb scan --select COUNT --table-name " + table + "-" + s_,
                         &out),
              0);
    return json::parse(out)["Count"];
  }
  void Sql(bool mysql, const std::string& sql) {
    if (mysql) {
      bool ok = false;
      MySqlPtr db = ConnectMySql(&ok);
      ASSERT_EQ(mysql_query(db.get(), sql.c_str()), 0) << mysql_error(db.get());
    } else {
      PgPtr pg = ConnectPg();
      PGresult* r = PQexec(pg.get(), sql.c_str());
      ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
      PQclear(r);
    }
  }
  std::string s_ = UniqueName("sync");
};

TEST_F(SyncTest, ChangesInTheThreeDatabasesReachDynamoDb) {
  std::string out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3 mb s3://di-" + s_, &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + "--mode setup", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + "--mode sync --table users --table rooms --table movies", &out), 0)
      << out;
  EXPECT_NE(out.find("1000 items written (first sync: all rows)"), std::string::npos) << out;
  EXPECT_EQ(Count("users"), 1000 * CinemaScale());

  // PostgreSQL: three updates and an insert sharing one timestamp.
  Sql(false,
      "UPDATE users SET full_name = 'Ñandú Actualizado', updated_at = '2030-01-01 00:00:00+00' "
      "WHERE id IN (5, 6, 7)");
  Sql(false,
      "INSERT INTO users (id, email, full_name, preferences, favorite_genres, is_vip, "
      "loyalty_points, "
      "balance, created_at, updated_at) VALUES (1000001, 'new@cine.example', 'Nueva Usuaria', "
      "'{}', "
      "'{}', false, 0, 0, now(), '2030-01-01 00:00:00+00')");
  // MySQL: an update (ON UPDATE moves updated_at) and an insert.
  Sql(true, "UPDATE rooms SET hourly_rate = 99999.99 WHERE id = 2");
  Sql(true,
      "INSERT INTO rooms (id, name, screen_type, seat_rows, capacity, hourly_rate, is_active) "
      "VALUES (1001, 'Sala Nueva', 'IMAX', 1, 0, 10.00, 1)");
  // MongoDB: an update and an insert.
  mongoc_init();
  mongoc_client_t* client = mongoc_client_new(StackConfig().mongo.uri.c_str());
  mongoc_collection_t* movies =
      mongoc_client_get_collection(client, StackConfig().mongo.database.c_str(), "movies");
  bson_error_t e;
  bson_t* sel = BCON_NEW("title", BCON_UTF8("El último bajo cero 3"));
  bson_t* upd = BCON_NEW("$set", "{", "title", BCON_UTF8("Título nuevo"), "updated_at",
                         BCON_DATE_TIME(INT64_C(1893456000000)), "}");
  ASSERT_TRUE(mongoc_collection_update_one(movies, sel, upd, nullptr, nullptr, &e)) << e.message;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "7a0000000000000000000001");
  bson_t* doc = BCON_NEW("_id", BCON_OID(&oid), "title", BCON_UTF8("Estreno"), "genre_ids", "[",
                         "]", "updated_at", BCON_DATE_TIME(INT64_C(1893456000000)));
  ASSERT_TRUE(mongoc_collection_insert_one(movies, doc, nullptr, nullptr, &e)) << e.message;
  bson_destroy(sel);
  bson_destroy(upd);
  bson_destroy(doc);
  mongoc_collection_destroy(movies);
  mongoc_client_destroy(client);

  // BATCH_SIZE=2: the four tied users span two batches.
  ASSERT_EQ(
      RunCommand(Env("BATCH_SIZE=2") + "--mode sync --table users --table rooms --table movies",
                 &out),
      0)
      << out;
  EXPECT_NE(out.find("postgresql.users -> users-" + s_ + ": 4 items written"), std::string::npos)
      << out;
  EXPECT_NE(out.find("mysql.rooms -> rooms-" + s_ + ": 2 items written"), std::string::npos) << out;
  EXPECT_NE(out.find("mongodb.movies -> movies-" + s_ + ": 2 items written"), std::string::npos)
      << out;
  for (int id : {5, 6, 7})
    EXPECT_EQ(
        Get("users", "{\"user_id\":{\"N\":\"" + std::to_string(id) + "\"}}")["full_name"]["S"],
        "Ñandú Actualizado");
  EXPECT_EQ(Get("users", "{\"user_id\":{\"N\":\"1000001\"}}")["email"]["S"], "new@cine.example");
  EXPECT_EQ(Get("rooms", "{\"room_id\":{\"N\":\"2\"}}")["hourly_rate"]["N"], "99999.99");
  EXPECT_EQ(Get("rooms", "{\"room_id\":{\"N\":\"1001\"}}")["name"]["S"], "Sala Nueva");
  EXPECT_EQ(Get("movies", "{\"movie_id\":{\"S\":\"7a0000000000000000000001\"}}")["title"]["S"],
            "Estreno");
  EXPECT_EQ(Count("users"), 1000 * CinemaScale() + 1);

  // Nothing changed since: nothing to write. The watermark is in the state table.
  ASSERT_EQ(RunCommand(Env() + "--mode sync --table users", &out), 0) << out;
  EXPECT_NE(out.find("postgresql.users -> users-" + s_ + ": 0 items written"), std::string::npos)
      << out;
  json wm = Get("state", "{\"pk\":{\"S\":\"watermark\"},\"sk\":{\"S\":\"postgresql.users\"}}");
  EXPECT_NE(wm["position"]["S"].get<std::string>().find("1000001"), std::string::npos) << wm.dump();

  // --since reads again from a time.
  ASSERT_EQ(RunCommand(Env() + "--mode sync --table users --since 2029-12-31T00:00:00Z", &out), 0)
      << out;
  EXPECT_NE(out.find("postgresql.users -> users-" + s_ + ": 4 items written"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace di::testing
