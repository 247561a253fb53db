// The three sources against the seeded cinema data: discovery, streamed counts in bounded
// batches, and every column's exact value compared with the generator's own record of it.
#include <gtest/gtest.h>

#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "sinks/backup_record.h"
#include "sinks/cell_encoding.h"
#include "sinks/dynamo_item.h"
#include "sources/factory.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;

std::unique_ptr<Source> Open(Engine e) {
  const Config& c = StackConfig();
  Result<std::unique_ptr<Source>> r = e == Engine::kMySql      ? OpenMySqlSource({c.mysql})
                                      : e == Engine::kPostgres ? OpenPostgresSource({c.postgres})
                                                               : OpenMongoSource(c.mongo);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// The generator's record of rows `ids` of `table`, as JSON (plain for SQL, canonical
// Extended JSON for MongoDB).
json Expected(const std::string& table, const std::string& ids) {
  std::string out;
  int rc = RunCommand(VenvPython() + " " + DI_SOURCE_DIR +
                          "/tools/datagen/cinema_datagen.py expect --scale " +
                          std::to_string(CinemaScale()) + " --table " + table + " --ids " + ids,
                      &out);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out);
}

// Reads the whole table; returns rows keyed by their first column (SQL) or _id (MongoDB).
std::map<std::string, std::vector<Value>> ReadAll(Source& src, const TableInfo& t, size_t batch,
                                                  size_t* batches = nullptr) {
  auto reader = src.Read(t, {batch, std::nullopt, false});
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::map<std::string, std::vector<Value>> rows;
  RecordBatch b;
  size_t n = 0;
  while (true) {
    auto more = (*reader)->Next(&b);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_LE(b.rows.size(), batch);
    ++n;
    for (auto& r : b.rows) {
      std::string key = t.engine == Engine::kMongo
                            ? ToJson(*r[0].as<Document>().Find("_id"), JsonStyle::kPlain)
                            : ToJson(r[0], JsonStyle::kPlain);
      rows[key] = std::move(r);
    }
  }
  if (batches) *batches = n;
  return rows;
}

struct TableCase {
  Engine engine;
  std::string table;
  std::string ids;  // rows compared value by value; they cover NULL and non-NULL variants
};

TEST(Sources, EveryColumnOfTheCinemaDataReadsBackExactly) {
  const TableCase cases[] = {
      {Engine::kMySql, "rooms", "1,2,3,4,5,6,7,8,9,10"},
      {Engine::kMySql, "seats", "1,2,3,50,200"},
      {Engine::kMySql, "schedules", "1,2,3,4,5,150"},
      {Engine::kPostgres, "users", "1,3,4,11,13,17,991,997"},
      {Engine::kPostgres, "reservations", "1,2,3,5,8,10,15,40"},
      {Engine::kPostgres, "reserved_seats", "1,2,3,10,99"},
      {Engine::kPostgres, "payments", "1,2,9,23,100"},
  };
  std::map<Engine, std::unique_ptr<Source>> sources;
  size_t compared = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.table);
    auto& src = sources[c.engine];
    if (!src) src = Open(c.engine);
    ASSERT_TRUE(src);
    auto info = src->Describe(c.table);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->primary_key, std::vector<std::string>{"id"});
    EXPECT_EQ(info->cursor_column, "updated_at");
    auto rows = ReadAll(*src, *info, 97);
    EXPECT_EQ(static_cast<int64_t>(rows.size()),
              ExpectedCounts(CinemaScale()).at(EngineName(c.engine)).at(c.table));
    json want = Expected(c.table, c.ids);
    for (auto& [id, expected_row] : want.items()) {
      ASSERT_TRUE(rows.count(id)) << "row " << id;
      const auto& got = rows[id];
      ASSERT_EQ(got.size(), info->columns.size());
      for (size_t i = 0; i < got.size(); ++i) {
        const std::string& col = info->columns[i].name;
        json g = json::parse(ToJson(got[i], JsonStyle::kPlain));
        ++compared;
        EXPECT_EQ(g, expected_row[col]) << c.table << " id " << id << " column " << col << " ("
                                        << info->columns[i].source_type << ")";
      }
    }
  }
  EXPECT_EQ(compared, 10u * 13 + 5 * 8 + 6 * 12 + 8 * 14 + 8 * 14 + 5 * 6 + 5 * 10);
}

TEST(Sources, MongoDocumentsKeepTheirBsonTypes) {
  auto src = Open(Engine::kMongo);
  ASSERT_TRUE(src);
  auto tables = src->ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, (std::vector<std::string>{"genres", "movies"}));
  size_t compared = 0;
  for (const std::string coll : {"movies", "genres"}) {
    auto info = src->Describe(coll);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->primary_key, std::vector<std::string>{"_id"});
    EXPECT_EQ(info->cursor_column, "updated_at");
    auto rows = ReadAll(*src, *info, 7);
    EXPECT_EQ(static_cast<int64_t>(rows.size()),
              ExpectedCounts(CinemaScale()).at("mongodb").at(coll));
    json want = Expected(coll, "1,2,3,4,5,6,9,10");
    for (auto& [k, doc] : want.items()) {
      if (coll == "genres" && std::stoi(k) > 16) continue;
      std::string id = "\"" + doc["_id"]["$oid"].get<std::string>() + "\"";
      ASSERT_TRUE(rows.count(id)) << coll << " " << id;
      EXPECT_EQ(json::parse(ToJson(rows[id][0], JsonStyle::kExtended)), doc) << coll << " " << k;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 16u);
}

// A change-tracking column that allows NULL: a keyset page cannot go past a NULL (in MariaDB
// NULLs sort first, so a page ending on one lost every later row). Incremental reads are
// refused naming the column and the fix; a whole read still has every row.
TEST(Sources, NullableChangeTrackingColumnIsRefusedForIncrementalReadsOnly) {
  const Config& c = StackConfig();
  PsqlOn(c.postgres.database,
         "DROP TABLE IF EXISTS nullable_cursor; CREATE TABLE nullable_cursor (id int PRIMARY "
         "KEY, updated_at timestamptz NULL); INSERT INTO nullable_cursor SELECT g, CASE WHEN g % "
         "3 = 0 THEN NULL ELSE now() END FROM generate_series(1, 10) g");
  MariaDbOn(c.mysql.database,
            "DROP TABLE IF EXISTS nullable_cursor; CREATE TABLE nullable_cursor (id int PRIMARY "
            "KEY, updated_at datetime NULL); INSERT INTO nullable_cursor VALUES (1, NULL), (2, "
            "NULL), (3, NOW()), (4, NULL), (5, NOW()), (6, NOW()), (7, NULL), (8, NOW()), (9, "
            "NULL), (10, NOW())");
  struct Drop {  // whatever fails below: other tests count the databases' tables
    ~Drop() {
      PsqlOn(StackConfig().postgres.database, "DROP TABLE IF EXISTS nullable_cursor");
      MariaDbOn(StackConfig().mysql.database, "DROP TABLE IF EXISTS nullable_cursor");
    }
  } drop;
  for (Engine e : {Engine::kPostgres, Engine::kMySql}) {
    SCOPED_TRACE(EngineName(e));
    auto src = Open(e);
    ASSERT_TRUE(src);
    auto info = src->Describe("nullable_cursor", "updated_at");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_TRUE(NullableCursor(*info));
    auto inc = src->Read(*info, {3, std::nullopt, true});
    ASSERT_FALSE(inc.ok());
    EXPECT_EQ(inc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(inc.status().message().find("change-tracking column 'updated_at' allows NULL"),
              std::string::npos)
        << inc.status().message();
    EXPECT_NE(inc.status().message().find("make it NOT NULL"), std::string::npos);
    EXPECT_EQ(ReadAll(*src, *info, 3).size(), 10u);
    // A full load in key order (migrate's) needs no change column: every row, resumable.
    ReadOptions by_key{3, std::nullopt, false, true};
    auto reader = src->Read(*info, by_key);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    RecordBatch b;
    size_t rows = 0;
    while (*(*reader)->Next(&b)) {
      rows += b.rows.size();
      ASSERT_TRUE(b.last.has_value());
      EXPECT_EQ(b.last->key.at(0), Value(int64_t(rows)));
    }
    EXPECT_EQ(rows, 10u);
  }
}

// An ordered read whose sinks hold it back (a throttled target) is not ended by the server:
// MariaDB's net_write_timeout and PostgreSQL's idle_in_transaction_session_timeout are set
// to 1 s for new sessions here, and a read pauses 3 s between two batches.
TEST(Sources, AnOrderedReadHeldBackByItsSinksIsNotEndedByTheServer) {
  const Config& c = StackConfig();
  // MariaDB: ~16 MB of rows, far past the socket buffers, so the server blocks sending.
  MariaDbOn(c.mysql.database,
            "DROP TABLE IF EXISTS held_back; CREATE TABLE held_back (id INT PRIMARY KEY, pad "
            "VARCHAR(400)) SELECT seq AS id, REPEAT('x', 400) AS pad FROM seq_1_to_40000; SET "
            "GLOBAL net_write_timeout = 1");
  PsqlOn(c.postgres.database,
         "DROP TABLE IF EXISTS held_back; CREATE TABLE held_back AS SELECT g AS id, "
         "repeat('x', 400) AS pad FROM generate_series(1, 40000) g; ALTER TABLE held_back ADD "
         "PRIMARY KEY (id); ALTER DATABASE " +
             c.postgres.database + " SET idle_in_transaction_session_timeout = '1s'");
  struct Restore {
    ~Restore() {
      const Config& c = StackConfig();
      MariaDbOn(c.mysql.database, "SET GLOBAL net_write_timeout = 60; DROP TABLE held_back");
      PsqlOn(c.postgres.database, "ALTER DATABASE " + c.postgres.database +
                                      " RESET idle_in_transaction_session_timeout; DROP TABLE "
                                      "held_back");
    }
  } restore;
  for (Engine e : {Engine::kMySql, Engine::kPostgres}) {
    SCOPED_TRACE(EngineName(e));
    auto src = Open(e);
    ASSERT_TRUE(src);
    auto info = src->Describe("held_back");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto reader = src->Read(*info, {1000, std::nullopt, false, true});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    CellBatch b;
    size_t rows = 0;
    ASSERT_TRUE(*(*reader)->NextCells(&b));
    rows += b.rows();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    while (true) {
      auto more = (*reader)->NextCells(&b);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      rows += b.rows();
    }
    EXPECT_EQ(rows, 40000u);
  }
}

// A run's table listing parks its connection for the first worker on that database.
TEST(Sources, AParkedSourceServesTheNextOpenOfItsDatabase) {
  const Config& c = StackConfig();
  ServerSources sources(c);
  auto a = sources.Open(Engine::kPostgres);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const Source* parked = a->get();
  sources.Park(Engine::kPostgres, "", std::move(*a));
  auto other = sources.Open(Engine::kPostgres, "postgres");  // another database
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(other->get(), parked);
  auto mysql = sources.Open(Engine::kMySql);  // another engine
  ASSERT_TRUE(mysql.ok()) << mysql.status().ToString();
  auto same = sources.Open(Engine::kPostgres, c.postgres.database);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->get(), parked);
  EXPECT_TRUE((*same)->ListTables().ok());
  auto again = sources.Open(Engine::kPostgres);  // taken: a new connection
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(again->get(), parked);
  // Another factory (another run's world) has its own cache.
  const Source* parked_again = again->get();
  sources.Park(Engine::kPostgres, "", std::move(*again));
  ServerSources elsewhere(c);
  auto fresh = elsewhere.Open(Engine::kPostgres);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_NE(fresh->get(), parked_again);  // still parked in `sources`, not handed here
}

TEST(Sources, DiscoveryListsTablesWithTypesAndKeys) {
  auto my = Open(Engine::kMySql);
  auto tables = my->ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, (std::vector<std::string>{"rooms", "schedules", "seats"}));
  auto rooms = my->Describe("rooms");
  ASSERT_TRUE(rooms.ok());
  std::map<std::string, std::string> types;
  for (const auto& c : rooms->columns) types[c.name] = c.source_type;
  EXPECT_EQ(types["hourly_rate"], "decimal(10,2)");
  EXPECT_EQ(types["features"], "json");
  EXPECT_EQ(types["screen_type"], "enum('2D','3D','IMAX','4DX')");
  EXPECT_EQ(types["updated_at"], "datetime(6)");
  auto pg = Open(Engine::kPostgres);
  auto pgt = pg->ListTables();
  ASSERT_TRUE(pgt.ok());
  EXPECT_EQ(*pgt,
            (std::vector<std::string>{"payments", "reservations", "reserved_seats", "users"}));
  auto users = pg->Describe("users");
  ASSERT_TRUE(users.ok());
  types.clear();
  for (const auto& c : users->columns) types[c.name] = c.source_type;
  EXPECT_EQ(types["favorite_genres"], "text[]");
  EXPECT_EQ(types["balance"], "numeric(12,2)");
  EXPECT_EQ(types["updated_at"], "timestamp with time zone");
}

TEST(Sources, ErrorsNameEngineHostAndDatabase) {
  Config c = StackConfig();  // the stack's ports, whichever stack.env or the environment gives
  const std::string mysql = "MySQL 127.0.0.1:" + std::to_string(c.mysql.port) + "/cinema_rooms";
  const std::string mongo_port = c.mongo.uri.substr(c.mongo.uri.rfind(':') + 1);
  auto missing = Open(Engine::kMySql)->Describe("no_such_table");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(mysql + ": table 'no_such_table' does not exist"),
            std::string::npos)
      << missing.status().message();
  auto pgmissing = Open(Engine::kPostgres)->Describe("nope");
  EXPECT_EQ(pgmissing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(pgmissing.status().message().find(
                "PostgreSQL 127.0.0.1:" + std::to_string(c.postgres.port) + "/cinema_reservations"),
            std::string::npos);
  auto mgmissing = Open(Engine::kMongo)->Describe("nope");
  EXPECT_EQ(mgmissing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(
      mgmissing.status().message().find(
          "MongoDB 127.0.0.1:" + mongo_port.substr(0, mongo_port.find('/')) + "/cinema_movies"),
      std::string::npos)
      << mgmissing.status().message();

  SqlSettings bad_pw = c.mysql;
  bad_pw.password = "wrong";
  auto r = OpenMySqlSource({bad_pw});
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find(mysql + ": cannot connect"), std::string::npos)
      << r.status().message();
  SqlSettings refused = c.postgres;
  refused.port = 1;
  auto p = OpenPostgresSource({refused});
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(p.status().message().find("PostgreSQL 127.0.0.1:1/cinema_reservations: cannot connect"),
            std::string::npos)
      << p.status().message();
  SqlSettings pg_pw = c.postgres;
  pg_pw.password = "wrong";
  EXPECT_EQ(OpenPostgresSource({pg_pw}).status().code(), StatusCode::kUnauthenticated);
  MongoSettings m = c.mongo;
  m.uri = "mongodb://127.0.0.1:1/cinema_movies?serverSelectionTimeoutMS=500";
  auto mr = OpenMongoSource(m);
  EXPECT_EQ(mr.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(mr.status().message().find("MongoDB 127.0.0.1:1/cinema_movies: cannot connect"),
            std::string::npos)
      << mr.status().message();
}

// Naive timestamps (MySQL DATETIME, PostgreSQL timestamp) are wall time in SOURCE_TZ;
// zone-aware ones (MySQL TIMESTAMP, timestamptz) do not move with it.
TEST(Sources, NaiveTimestampsAreReadInTheSourceZone) {
  auto madrid = TimeZone::Load("Europe/Madrid");
  ASSERT_TRUE(madrid.ok());
  const Config& c = StackConfig();
  auto read_row = [](Source& src, const std::string& table) {
    auto t = src.Describe(table);
    auto reader = src.Read(*t, {1, std::nullopt, false});
    RecordBatch b;
    EXPECT_TRUE(*(*reader)->Next(&b));
    std::map<std::string, std::string> out;
    for (size_t i = 0; i < t->columns.size(); ++i)
      out[t->columns[i].name] = ToJson(b.rows[0][i], JsonStyle::kPlain);
    return out;
  };
  auto utc_my = OpenMySqlSource({c.mysql});
  auto mad_my = OpenMySqlSource({c.mysql, *madrid});
  auto a = read_row(**utc_my, "rooms"), b = read_row(**mad_my, "rooms");
  EXPECT_EQ(a["updated_at"], "\"2025-02-11T13:46:40.250000Z\"");  // DATETIME(6)
  EXPECT_EQ(b["updated_at"], "\"2025-02-11T12:46:40.250000Z\"");  // Madrid is UTC+1 in February
  EXPECT_EQ(a["created_at"], b["created_at"]);                    // TIMESTAMP(6): an instant
  auto utc_pg = OpenPostgresSource({c.postgres});
  auto mad_pg = OpenPostgresSource({c.postgres, *madrid});
  auto p = read_row(**utc_pg, "reservations"), q = read_row(**mad_pg, "reservations");
  EXPECT_NE(p["show_time"], q["show_time"]);    // timestamp without time zone
  EXPECT_EQ(p["created_at"], q["created_at"]);  // timestamptz
  // Incremental reads compare in the same zone: resuming after the first row finds the rest.
  auto t = (*mad_my)->Describe("seats");
  auto reader = (*mad_my)->Read(*t, {7, std::nullopt, true});
  RecordBatch first;
  ASSERT_TRUE(*(*reader)->Next(&first));
  auto again = (*mad_my)->Read(*t, {100000, first.last, true});
  RecordBatch rest;
  ASSERT_TRUE(*(*again)->Next(&rest));
  EXPECT_EQ(rest.rows.size() + 7, 1200u * CinemaScale());
}

TEST(Sources, ATableWithoutPrimaryKeyIsReadableInFullOnly) {
  bool ok = false;
  MySqlPtr db = ConnectMySql(&ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(mysql_query(db.get(), "CREATE OR REPLACE TABLE nopk (a INT, updated_at DATETIME)"), 0);
  ASSERT_EQ(mysql_query(db.get(), "INSERT INTO nopk VALUES (1, NOW()), (1, NOW()), (2, NULL)"), 0);
  auto src = Open(Engine::kMySql);
  auto info = src->Describe("nopk");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->primary_key.empty());
  size_t rows = 0;
  auto reader = src->Read(*info, {10, std::nullopt, false});
  RecordBatch b;
  while (*(*reader)->Next(&b)) rows += b.rows.size();
  EXPECT_EQ(rows, 3u);  // duplicates and all
  auto inc = src->Read(*info, {10, std::nullopt, true});
  EXPECT_EQ(inc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(inc.status().message().find("needs a change-tracking column and a primary key"),
            std::string::npos);
  mysql_query(db.get(), "DROP TABLE nopk");
}

TEST(Sources, OneConnectionServesManyTablesInTurn) {
  auto src = Open(Engine::kPostgres);
  for (int round = 0; round < 2; ++round)
    for (const std::string t : {"users", "payments"}) {
      auto info = src->Describe(t);
      ASSERT_TRUE(info.ok());
      // Stop a streamed read early: the connection must be usable afterwards.
      RecordBatch b;
      {
        auto reader = src->Read(*info, {10, std::nullopt, false});
        ASSERT_TRUE(reader.ok());
        ASSERT_TRUE(*(*reader)->Next(&b));
        EXPECT_EQ(b.rows.size(), 10u);
      }
      // The same for ordered reads, whose next FETCH is already sent, twice in turn.
      for (int paged_read = 0; paged_read < 2; ++paged_read) {
        auto paged = src->Read(*info, {10, std::nullopt, true});
        ASSERT_TRUE(paged.ok()) << paged.status().ToString();
        auto more = (*paged)->Next(&b);
        ASSERT_TRUE(more.ok()) << more.status().ToString();
        ASSERT_TRUE(*more);
        EXPECT_EQ(b.rows.size(), 10u);
      }
    }
  auto info = src->Describe("users");
  // A keyset reader whose next page was asked for ahead, interrupted by another command on
  // its connection (a lookup), asks again and misses nothing.
  {
    auto paged = src->Read(*info, {300, std::nullopt, true});
    ASSERT_TRUE(paged.ok());
    RecordBatch b;
    size_t rows = 0;
    for (int page = 0;; ++page) {
      auto more = (*paged)->Next(&b);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      rows += b.rows.size();
      if (page == 0) {
        auto found = src->Lookup(*info, "id", {Value(int64_t{1})});
        ASSERT_TRUE(found.ok()) << found.status().ToString();
        EXPECT_EQ(found->size(), 1u);
      }
    }
    EXPECT_EQ(rows, 1000u * CinemaScale());
  }
  size_t batches = 0;
  EXPECT_EQ(ReadAll(*src, *info, 300, &batches).size(), 1000u * CinemaScale());
  EXPECT_EQ(batches, (1000u * CinemaScale() + 299) / 300);
}

// A MariaDB source serving its table's lookups in its pinned snapshot (as a migrate's DynamoDB
// sink asks them, on the sink's thread) takes turns on its one connection with its read, which
// comes in pages: every row read once, every lookup answered, right up to the read's end.
// Under ThreadSanitizer (make test-tsan) it also checks the turns: the read's end once cleared
// the source's streaming reader outside them while a lookup read it.
TEST(Sources, AMariaDbSourceServingLookupsTakesTurnsWithItsPagedRead) {
  auto src = Open(Engine::kMySql);
  ASSERT_TRUE(src);
  auto seats = src->Describe("seats");
  auto rooms = src->Describe("rooms");
  ASSERT_TRUE(seats.ok() && rooms.ok()) << seats.status().ToString() << rooms.status().ToString();
  auto pinned = src->PinSnapshot();
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  ASSERT_TRUE(src->ServeLookupsInSnapshot()) << "the stack's MariaDB has its binlog on";
  auto reader = src->Read(*seats, {50, std::nullopt, false, true});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::atomic<bool> read_done{false};
  std::atomic<int> lookups{0}, wrong{0};
  std::thread sink([&] {  // lookups until the read has ended, as a sink's would go on
    while (!read_done.load()) {
      auto found = src->Lookup(*rooms, "id", {Value(int64_t{1})});
      if (!found.ok() || found->size() != 1) wrong++;
      lookups++;
    }
  });
  RecordBatch b;
  size_t rows = 0;
  Status read_status;
  while (true) {
    auto more = (*reader)->Next(&b);
    if (!more.ok()) read_status = more.status();
    if (!more.ok() || !*more) break;
    rows += b.rows.size();
  }
  read_done = true;
  sink.join();
  src->ReleaseSnapshot();
  EXPECT_TRUE(read_status.ok()) << read_status.ToString();
  EXPECT_EQ(rows, 1200u * CinemaScale());
  EXPECT_GT(lookups.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace di::testing
