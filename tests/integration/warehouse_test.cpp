// The analytics warehouse (ANALYTICS_DATABASE_URL): a separate database on the stack's
// PostgreSQL. migrate loads every mapped table (a schema per engine) and sync upserts the
// changes; the copies are compared with the sources value by value through psql/mariadb.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;

class WarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "di_wh_" + std::to_string(getpid());
    Psql("postgres", "DROP DATABASE IF EXISTS " + db_);
    ASSERT_EQ(Psql("postgres", "CREATE DATABASE " + db_), "");
    dir_ = fs::temp_directory_path() / UniqueName("di-wh");
    fs::create_directories(dir_);
    std::ofstream(dir_ / "mapping.json") << R"({"tables": [
      {"source": "mysql", "table": "rooms"},
      {"source": "postgresql", "table": "users"},
      {"source": "postgresql", "table": "reservations"},
      {"source": "mongodb", "table": "movies"}]})";
  }
  void TearDown() override {
    std::string out;
    EXPECT_EQ(Reseed(&out), 0) << out;
    Psql("postgres", "DROP DATABASE IF EXISTS " + db_);
    fs::remove_all(dir_);
  }
  std::string Psql(const std::string& db, const std::string& sql) { return PsqlOn(db, sql); }
  std::string Mysql(const std::string& sql) { return MariaDbOn(StackConfig().mysql.database, sql); }
  std::string Env() {
    const Config& c = StackConfig();
    return StackEnvShell() + "export ANALYTICS_DATABASE_URL=postgresql://" + c.postgres.user + ":" +
           c.postgres.password + "@" + c.postgres.host + ":" + std::to_string(c.postgres.port) +
           "/" + db_ + " MAPPING_FILE=" + (dir_ / "mapping.json").string() +
           " S3_BUCKET_NAME=file://" + (dir_ / "store").string() + " DYNAMODB_STATE_TABLE=state-" +
           s_ + " && ";
  }
  // Every column of users, in both databases, as one digest.
  std::string UsersDigest(const std::string& db) {
    return Psql(db, std::string("SELECT count(*) || ':' || md5(string_agg(u::text, ',' ORDER BY "
                                "id)) FROM ") +
                        (db == db_ ? "postgresql.users" : "users") + " u");
  }
  std::string ReservationsDigest(const std::string& db) {
    bool wh = db == db_;
    return Psql(db, std::string("SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, "
                                "user_id, schedule_id, movie_id, status, total_amount, "
                                "seat_count, notes, metadata::jsonb, seat_numbers, ") +
                        (wh ? "show_time AT TIME ZONE 'UTC'" : "show_time") +
                        ", created_at, updated_at), ',' ORDER BY id)) FROM " +
                        (wh ? "postgresql.reservations" : "reservations"));
  }
  std::string db_;
  fs::path dir_;
  std::string s_ = UniqueName("wh");
};

TEST_F(WarehouseTest, MigrateLoadsEveryTableAndSyncUpsertsTheChanges) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_NE(
      out.find("postgresql.users -> warehouse: " + std::to_string(1000 * CinemaScale()) + " rows"),
      std::string::npos)
      << out;
  const std::string src = StackConfig().postgres.database;
  // PostgreSQL tables: every column equal (users as whole rows; reservations with the naive
  // show_time read back in UTC and json compared as jsonb).
  EXPECT_EQ(UsersDigest(db_), UsersDigest(src));
  EXPECT_EQ(ReservationsDigest(db_), ReservationsDigest(src));
  EXPECT_EQ(Psql(db_,
                 "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                 "'postgresql' AND table_name = 'users' AND column_name = 'favorite_genres'"),
            "ARRAY");
  // MariaDB rooms: decimals, binary, JSON and microsecond timestamps, row by row.
  std::string my = Mysql(
      "SELECT GROUP_CONCAT(CONCAT_WS('|', id, name, screen_type, hourly_rate, is_active, "
      "IFNULL(MD5(floor_plan), '-'), IFNULL(JSON_EXTRACT(features, '$.projector.lumens'), '-'), "
      "IFNULL(JSON_UNQUOTE(JSON_EXTRACT(features, '$.tags[0]')), '-'), "
      "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f')) ORDER BY id SEPARATOR ',') FROM rooms");
  std::string pg =
      Psql(db_,
           "SELECT string_agg(concat_ws('|', id, name, screen_type, hourly_rate, is_active::int, "
           "coalesce(md5(floor_plan), '-'), coalesce(features->'projector'->>'lumens', '-'), "
           "coalesce(features->'tags'->>0, '-'), "
           "to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US')), ',' ORDER BY id) FROM mysql.rooms");
  EXPECT_EQ(pg, my);
  EXPECT_EQ(Psql(db_, "SELECT count(*), count(document->>'title') FROM mongodb.movies"),
            std::to_string(50 * CinemaScale()) + "|" + std::to_string(50 * CinemaScale()));

  // Sync: an update, an insert, and an update sharing one timestamp.
  Psql(src,
       "UPDATE users SET full_name = 'Changed Name', updated_at = now() WHERE id IN (5, 6); "
       "INSERT INTO users SELECT id + 1000000, 'new' || email, full_name, phone, birth_date, "
       "preferences, favorite_genres, is_vip, loyalty_points, balance, engagement_score, avatar, "
       "created_at, now() FROM users WHERE id = 7");
  ASSERT_NE(UsersDigest(db_), UsersDigest(src));
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode sync", &out), 0) << out;
  EXPECT_NE(out.find("postgresql.users -> warehouse: 3 rows"), std::string::npos) << out;
  EXPECT_EQ(UsersDigest(db_), UsersDigest(src));
  EXPECT_EQ(Psql(db_, "SELECT full_name FROM postgresql.users WHERE id = 6"), "Changed Name");
  // Nothing changed since: the next sync moves nothing.
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode sync", &out), 0) << out;
  EXPECT_NE(out.find("postgresql.users -> warehouse: 0 rows"), std::string::npos) << out;

  // A second migrate replaces the tables whole (no duplicates).
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_EQ(UsersDigest(db_), UsersDigest(src));
}

TEST_F(WarehouseTest, AnUnreachableWarehouseIsNamedWithoutItsPassword) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  std::string bad =
      Env() + "export ANALYTICS_DATABASE_URL=postgresql://u:s3cr3t-pw@127.0.0.1:1/x && ";
  EXPECT_EQ(RunCommand(bad + DI_BINARY + " --mode migrate", &out), 1) << out;
  EXPECT_NE(out.find("cannot connect to the warehouse"), std::string::npos) << out;
  EXPECT_NE(out.find("postgresql://u:****@127.0.0.1:1/x"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cr3t-pw"), std::string::npos) << out;
  EXPECT_NE(out.find("PARTIAL"), std::string::npos) << out;  // backups still made
  // A sync with the warehouse down still brings DynamoDB up to date, and names the warehouse.
  std::ofstream(dir_ / "dynamo.json") << R"({"tables": [{"source": "postgresql", "table": "users",
      "dynamodb": {"table": "whu-)" + s_ + R"(", "key": {"user_id": "id"}}}]})";
  bad += "export MAPPING_FILE=" + (dir_ / "dynamo.json").string() + " && ";
  ASSERT_EQ(RunCommand(bad + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_EQ(RunCommand(bad + DI_BINARY + " --mode sync", &out), 1) << out;
  EXPECT_NE(out.find("postgresql.users -> whu-" + s_ + ": 1000 items written"), std::string::npos)
      << out;
  EXPECT_NE(out.find("cannot connect to the warehouse"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cr3t-pw"), std::string::npos) << out;
  EXPECT_NE(out.find("PARTIAL"), std::string::npos) << out;
}

}  // namespace
}  // namespace di::testing
