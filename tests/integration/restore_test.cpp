// Restore: backup -> restore into empty databases -> every row equal to the original with
// its type (MariaDB CHECKSUM TABLE and column types; PostgreSQL rows as text and column
// types; MongoDB documents as canonical Extended JSON through pymongo), on the cinema data,
// Sakila, Pagila and the sample movies; and the refusals (corrupt or missing part, missing
// manifest, non-empty table, other columns) that write nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "rt_" + std::to_string(getpid()) + "_" + std::to_string(++counter_);
    dir_ = fs::temp_directory_path() / UniqueName("di-restore");
    Mysql("", "DROP DATABASE IF EXISTS " + db_ + "; CREATE DATABASE " + db_);
    Psql("postgres", "DROP DATABASE IF EXISTS " + db_);
    Psql("postgres", "CREATE DATABASE " + db_);
  }
  void TearDown() override {
    Mysql("", "DROP DATABASE IF EXISTS " + db_);
    Psql("postgres", "DROP DATABASE IF EXISTS " + db_);
    std::string out;
    RunCommand(VenvPython() + " -c \"import pymongo; pymongo.MongoClient('" + MongoBase() +
                   "').drop_database('" + db_ + "')\"",
               &out);
    fs::remove_all(dir_);
  }
  static std::string MongoBase() {
    std::string uri = StackConfig().mongo.uri;
    return uri.substr(0, uri.rfind('/'));
  }
  std::string Mysql(const std::string& db, const std::string& sql) { return MariaDbOn(db, sql); }
  std::string Psql(const std::string& db, const std::string& sql) { return PsqlOn(db, sql); }
  // The stack's settings, the local backup location and the source databases.
  std::string Env(const std::string& mysql_db, const std::string& pg_db,
                  const std::string& mongo_db) {
    return StackEnvShell() + "export S3_BUCKET_NAME=file://" + dir_.string() +
           " MYSQL_DATABASE=" + mysql_db + " POSTGRES_DATABASE=" + pg_db +
           " MONGODB_URI=" + MongoBase() + "/" + mongo_db + " && ";
  }
  std::string TargetUrl(const std::string& engine) {
    const Config& c = StackConfig();
    if (engine == "mysql")
      return "mysql://" + c.mysql.user + ":" + c.mysql.password + "@" + c.mysql.host + ":" +
             std::to_string(c.mysql.port) + "/" + db_;
    if (engine == "postgresql")
      return "postgresql://" + c.postgres.user + ":" + c.postgres.password + "@" + c.postgres.host +
             ":" + std::to_string(c.postgres.port) + "/" + db_;
    return MongoBase() + "/" + db_;
  }
  // Every table of the backup at dir_, restored with --latest into db_.
  std::vector<std::pair<std::string, std::string>> RestoreAll(const std::string& env) {
    std::vector<std::pair<std::string, std::string>> tables;  // engine, table
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "backups"))
      if (e.path().filename() == "manifest.json") {
        fs::path table_dir = e.path().parent_path().parent_path();
        tables.emplace_back(table_dir.parent_path().filename().string(),
                            table_dir.filename().string());
      }
    std::sort(tables.begin(), tables.end());
    for (const auto& [engine, table] : tables) {
      std::string out;
      EXPECT_EQ(RunCommand(env + DI_BINARY + " --mode restore --source-db " + engine + " --table " +
                               table + " --latest --target-url " + TargetUrl(engine),
                           &out),
                0)
          << engine << "." << table << ": " << out;
    }
    return tables;
  }
  void ExpectSameMysql(const std::string& src, const std::string& table) {
    auto sum = [&](const std::string& db) {
      std::string s = Mysql(db, "CHECKSUM TABLE \\`" + table + "\\`");
      return s.substr(s.find('\t') + 1);
    };
    auto types = [&](const std::string& db) {
      return Mysql("",
                   "SELECT GROUP_CONCAT(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE, ' ', "
                   "IS_NULLABLE) ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS "
                   "WHERE TABLE_SCHEMA = '" +
                       db + "' AND TABLE_NAME = '" + table + "'");
    };
    std::string want = types(src), sum_want = sum(src);
    ASSERT_TRUE(!want.empty() && want.find("ERROR") == std::string::npos) << want;
    ASSERT_TRUE(!sum_want.empty() && sum_want.find("ERROR") == std::string::npos) << sum_want;
    EXPECT_EQ(types(db_), want) << "mysql." << table;
    EXPECT_EQ(sum(db_), sum_want) << "mysql." << table;
  }
  void ExpectSamePg(const std::string& src, const std::string& table) {
    auto rows = [&](const std::string& db) {
      return Psql(db,
                  "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY "
                  "t::text)), '') FROM \\\"" +
                      table + "\\\" t");
    };
    auto types = [&](const std::string& db) {
      return Psql(db,
                  "SELECT string_agg(column_name || ' ' || data_type || ' ' || udt_name || ' "
                  "' || is_nullable, ',' ORDER BY ordinal_position) FROM "
                  "information_schema.columns WHERE table_schema = 'public' AND table_name "
                  "= '" +
                      table + "'");
    };
    std::string want = types(src), rows_want = rows(src);
    ASSERT_TRUE(!want.empty() && want.find("ERROR") == std::string::npos) << want;
    ASSERT_TRUE(rows_want.find(':') != std::string::npos) << rows_want;
    EXPECT_EQ(types(db_), want) << "postgresql." << table;
    EXPECT_EQ(rows(db_), rows_want) << "postgresql." << table;
  }
  void ExpectSameMongo(const std::string& src, const std::string& coll) {
    std::string out;
    EXPECT_EQ(
        RunCommand(VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/compare_mongo.py " +
                       MongoBase() + " " + src + " " + db_ + " " + coll,
                   &out),
        0)
        << "mongodb." << coll << ": " << out;
  }
  void RoundTrip(const std::string& my, const std::string& pg, const std::string& mongo,
                 size_t want_tables) {
    std::string env = Env(my, pg, mongo), out;
    ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup", &out), 0) << out;
    auto tables = RestoreAll(env);
    EXPECT_EQ(tables.size(), want_tables);
    for (const auto& [engine, table] : tables) {
      if (engine == "mysql") ExpectSameMysql(my, table);
      if (engine == "postgresql") ExpectSamePg(pg, table);
      if (engine == "mongodb") ExpectSameMongo(mongo, table);
    }
  }

  // The first part of the one backup of `engine_table` ("mysql/rooms") in dir_.
  fs::path Part(const std::string& engine_table) {
    fs::path run;
    for (const auto& e : fs::directory_iterator(dir_ / "backups" / engine_table)) run = e.path();
    return run / "part-00000.jsonl.gz";
  }
  // Flips a byte in the middle of the file, or `from_end` bytes before its end (6: in the last
  // gzip member's CRC, which only the end of the stream shows); its content before.
  static std::string Damage(const fs::path& file, size_t from_end = 0) {
    std::string original;
    {
      std::ifstream in(file, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::string damaged = original;
    damaged[from_end ? damaged.size() - from_end : damaged.size() / 2] ^= 0x5a;
    std::ofstream(file, std::ios::binary) << damaged;
    return original;
  }

  std::string db_;
  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(RestoreTest, CinemaTablesComeBackWithEveryValueAndType) {
  const Config& c = StackConfig();
  RoundTrip(c.mysql.database, c.postgres.database, c.mongo.database, 9);
}

TEST_F(RestoreTest, SakilaPagilaAndTheSampleMoviesComeBackWithEveryValueAndType) {
  if (!TestDataPresent("sakila") || !TestDataPresent("pagila") || !TestDataPresent("mflix"))
    GTEST_SKIP() << "reference data not found under " << TestDataDir() << " (set TESTDATA_DIR)";
  RoundTrip("sakila", "pagila", "mflix", 16 + 15 + 4);
}

// The corners of exact types, on tables built for them (issue: hardening): numbers in JSON
// beyond a double's precision (MySQL json, PostgreSQL json and jsonb), a JSON column holding
// a bare string, number or boolean, double -0 and the infinities, money as an exact decimal
// (read in the C locale's spelling whatever the server's lc_monetary), composite, range and
// enum types and arrays of them recreated from the manifest, a MongoDB document with an empty
// key. Each comes back as it was (the comparisons of RoundTrip), and the backup holds money
// as its decimal.
TEST_F(RestoreTest, ExactCornersComeBackAsTheyWere) {
  const std::string src = db_ + "s";
  Mysql("", "DROP DATABASE IF EXISTS " + src + "; CREATE DATABASE " + src);
  Psql("postgres", "DROP DATABASE IF EXISTS " + src);
  Psql("postgres", "CREATE DATABASE " + src);
  Mysql(src,
        "CREATE TABLE corners (id int PRIMARY KEY, d double, f float, j json, n decimal(30,10)); "
        "INSERT INTO corners VALUES (1, 1.5e-300, -0.5, '{\\\"big\\\": "
        "12345678901234567890.123456789012, \\\"i\\\": 123456789012345678901234567890, "
        "\\\"e\\\": 1E+2}', -0.0000000001), (2, 1e308, 3.4e38, '[1.0, 2.50, -0]', 0), "
        "(3, 0.1, NULL, '\\\"a bare string\\\"', NULL), (4, NULL, NULL, '5', 1), "
        "(5, NULL, NULL, 'true', NULL)");
  Psql(src,
       "CREATE TYPE addr AS (street text, n integer); CREATE TYPE floatrange AS RANGE (subtype "
       "= float8); CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE corners (id int PRIMARY "
       "KEY, d double precision, r real, m money, j json, jb jsonb, a addr, aa addr[], fr "
       "floatrange, e mood[]); SET lc_monetary = 'C'; INSERT INTO corners VALUES (1, '-0', "
       "'-0', '-1234.56', '{\\\"big\\\": 12345678901234567890.123456789012}', "
       "'{\\\"big\\\": 12345678901234567890.123456789012}', ROW('Main St', 5), "
       "ARRAY[ROW('x', 1)::addr], '[1.5,2.5)', '{ok,sad}'), (2, 'Infinity', '-Infinity', "
       "'92233720368547758.07', '[1.0, 2.50, 1E+2]', '[1.0, 2.50]', NULL, '{}', 'empty', "
       "NULL)");
  std::string out;
  ASSERT_EQ(RunCommand(VenvPython() + " -c \"import pymongo; pymongo.MongoClient('" + MongoBase() +
                           "')['" + src +
                           "'].corners.insert_many([{'_id': 1, '': 'an empty key'}, {'_id': "
                           "2, 'n': 2**62}])\"",
                       &out),
            0)
      << out;
  RoundTrip(src, src, src, 3);
  ASSERT_EQ(RunCommand("zcat " + Part("postgresql/corners").string(), &out), 0) << out;
  EXPECT_NE(out.find("\"m\":\"-1234.56\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"m\":\"92233720368547758.07\""), std::string::npos) << out;
  Mysql("", "DROP DATABASE IF EXISTS " + src);
  Psql("postgres", "DROP DATABASE IF EXISTS " + src);
  RunCommand(VenvPython() + " -c \"import pymongo; pymongo.MongoClient('" + MongoBase() +
                 "').drop_database('" + src + "')\"",
             &out);
}

// PostgreSQL: a missing or damaged backup and the ways an existing table is met (fail,
// append, replace, another table's columns, --target-table); nothing written when refused.
TEST_F(RestoreTest, DamagedBackupsAndOccupiedTablesAreRefusedWritingNothing) {
  const Config& c = StackConfig();
  std::string env = Env(c.mysql.database, c.postgres.database, c.mongo.database), out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup --table users", &out), 0) << out;
  fs::path users_dir;
  for (const auto& e : fs::directory_iterator(dir_ / "backups/postgresql/users")) users_dir = e;
  std::string run_id = users_dir.filename().string();
  std::string restore_users = env + DI_BINARY +
                              " --mode restore --source-db postgresql --table users --target-url " +
                              TargetUrl("postgresql") + " ";

  // A backup run that does not exist / has no manifest.
  EXPECT_EQ(RunCommand(restore_users + "--run-id 20000101T000000Z", &out), 1) << out;
  EXPECT_NE(out.find("has no manifest"), std::string::npos) << out;
  // Usage errors.
  EXPECT_EQ(RunCommand(restore_users, &out), 2) << out;
  EXPECT_NE(out.find("--run-id R or --latest"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(restore_users + "--latest --if-exists maybe", &out), 2) << out;
  EXPECT_NE(out.find("expected fail, replace or append"), std::string::npos) << out;

  // A corrupted part: refused, nothing written.
  fs::path part = users_dir / "part-00000.jsonl.gz";
  std::string original = Damage(part);
  EXPECT_EQ(RunCommand(restore_users + "--latest", &out), 1) << out;
  EXPECT_NE(out.find("does not match its sha256"), std::string::npos) << out;
  EXPECT_EQ(Psql(db_, "SELECT to_regclass('public.users') IS NULL"), "t");
  // A missing part.
  fs::remove(part);
  EXPECT_EQ(RunCommand(restore_users + "--run-id " + run_id, &out), 1) << out;
  EXPECT_NE(out.find("is missing part"), std::string::npos) << out;
  EXPECT_EQ(Psql(db_, "SELECT to_regclass('public.users') IS NULL"), "t");
  std::ofstream(part, std::ios::binary) << original;

  // Into an empty database: fine. Again: the table is not empty, refused.
  ASSERT_EQ(RunCommand(restore_users + "--latest", &out), 0) << out;
  EXPECT_NE(out.find(std::to_string(1000 * CinemaScale()) + " rows from 1 part"), std::string::npos)
      << out;
  EXPECT_EQ(RunCommand(restore_users + "--latest", &out), 1) << out;
  EXPECT_NE(out.find("is not empty; restore with --if-exists append"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(restore_users + "--latest --if-exists fail", &out), 1) << out;
  // append: the same keys again violate the primary key; the transaction writes nothing.
  EXPECT_EQ(RunCommand(restore_users + "--latest --if-exists append", &out), 1) << out;
  EXPECT_EQ(Psql(db_, "SELECT count(*) FROM users"), std::to_string(1000 * CinemaScale()));
  // replace: one transaction swaps the table.
  Psql(db_, "DELETE FROM users WHERE id < 100");
  ASSERT_EQ(RunCommand(restore_users + "--latest --if-exists replace", &out), 0) << out;
  ExpectSamePg(c.postgres.database, "users");
  // Another table's name with other columns is refused; --target-table picks a new one.
  Psql(db_, "CREATE TABLE other (id int, x text)");
  EXPECT_EQ(RunCommand(restore_users + "--latest --target-table other", &out), 1) << out;
  EXPECT_NE(out.find("exists with other columns (id, x)"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(restore_users + "--latest --target-table users_copy", &out), 0) << out;
  EXPECT_EQ(Psql(db_, "SELECT count(*) FROM users_copy"), std::to_string(1000 * CinemaScale()));
}

TEST_F(RestoreTest, AMySqlLoadIsStagedAndADamagedOneLeavesNoTable) {
  const Config& c = StackConfig();
  std::string env = Env(c.mysql.database, c.postgres.database, c.mongo.database), out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup --table rooms", &out), 0) << out;
  // MySQL replace goes through a staging table renamed into place.
  std::string restore_rooms = env + DI_BINARY +
                              " --mode restore --source-db mysql --table rooms --latest "
                              "--target-url " +
                              TargetUrl("mysql");
  // A MySQL part corrupted in its last member's CRC (found when its stream ends, after the
  // staging table was made): that table is dropped, nothing is left.
  fs::path rooms_part = Part("mysql/rooms");
  std::string rooms_original = Damage(rooms_part, 6);
  EXPECT_EQ(RunCommand(restore_rooms, &out), 1) << out;
  EXPECT_NE(out.find("does not match its sha256"), std::string::npos) << out;
  EXPECT_EQ(Mysql(db_, "SHOW TABLES"), "");
  std::ofstream(rooms_part, std::ios::binary) << rooms_original;
  ASSERT_EQ(RunCommand(restore_rooms, &out), 0) << out;
  Mysql(db_, "UPDATE rooms SET name = 'x'");
  EXPECT_EQ(RunCommand(restore_rooms, &out), 1) << out;
  ASSERT_EQ(RunCommand(restore_rooms + " --if-exists replace", &out), 0) << out;
  ExpectSameMysql(c.mysql.database, "rooms");
  EXPECT_EQ(Mysql(db_, "SHOW TABLES"), "rooms");  // no staging table left
}

TEST_F(RestoreTest, AMongoAppendIsVerifiedFirstAndANewCollectionIsStaged) {
  const Config& c = StackConfig();
  std::string env = Env(c.mysql.database, c.postgres.database, c.mongo.database), out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup --table movies", &out), 0) << out;
  // MongoDB appending to an existing collection (no transaction to undo): a corrupted part is
  // found before the first write; a new collection's load drops its staging collection.
  std::string restore_movies = env + DI_BINARY +
                               " --mode restore --source-db mongodb --table movies --latest "
                               "--target-url " +
                               TargetUrl("mongodb");
  std::string count = VenvPython() + " -c \"import pymongo; c = pymongo.MongoClient('" +
                      MongoBase() + "')['" + db_ + "']; print(sorted(c.list_collection_names()), " +
                      "c.movies.count_documents({}))\"";
  fs::path movies_part = Part("mongodb/movies");
  std::string movies_original = Damage(movies_part, 6);
  EXPECT_EQ(RunCommand(restore_movies, &out), 1) << out;
  EXPECT_NE(out.find("does not match its sha256"), std::string::npos) << out;
  RunCommand(count, &out);
  EXPECT_EQ(out, "[] 0\n");
  std::ofstream(movies_part, std::ios::binary) << movies_original;
  ASSERT_EQ(RunCommand(restore_movies, &out), 0) << out;
  Damage(movies_part, 6);
  EXPECT_EQ(RunCommand(restore_movies + " --if-exists append", &out), 1) << out;
  EXPECT_NE(out.find("does not match its sha256"), std::string::npos) << out;
  RunCommand(count, &out);
  EXPECT_EQ(out, "['movies'] " + std::to_string(50 * CinemaScale()) + "\n");
}

}  // namespace
}  // namespace di::testing
