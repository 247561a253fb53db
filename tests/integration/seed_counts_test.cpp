// The seeded cinema dataset is in the three databases with the closed-form counts of its
// scale, and its relations hold (seats in rooms, reservations of users for schedules,
// schedules and reservations pointing to MongoDB movies by ObjectId hex).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>
#include <mysql.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "stack_env.h"

namespace di::testing {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Rows MySql(const std::string& sql) {
  bool connected = false;
  MySqlPtr db = ConnectMySql(&connected);
  if (!connected) throw std::runtime_error(mysql_error(db.get()));
  if (mysql_query(db.get(), sql.c_str()) != 0) throw std::runtime_error(mysql_error(db.get()));
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(db.get()),
                                                               mysql_free_result);
  Rows out;
  unsigned n = mysql_num_fields(res.get());
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    out.emplace_back();
    for (unsigned i = 0; i < n; ++i) out.back().push_back(row[i] ? row[i] : "NULL");
  }
  return out;
}

Rows Pg(const std::string& sql) {
  PgPtr conn = ConnectPg();
  if (PQstatus(conn.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    throw std::runtime_error(PQresultErrorMessage(r.get()));
  Rows out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.emplace_back();
    for (int j = 0; j < PQnfields(r.get()); ++j)
      out.back().push_back(PQgetisnull(r.get(), i, j) ? "NULL" : PQgetvalue(r.get(), i, j));
  }
  return out;
}

class Mongo {
 public:
  Mongo() {
    mongoc_init();
    bson_error_t error;
    uri_ = mongoc_uri_new_with_error(StackConfig().mongo.uri.c_str(), &error);
    client_ = mongoc_client_new_from_uri(uri_);
  }
  ~Mongo() {
    mongoc_client_destroy(client_);
    mongoc_uri_destroy(uri_);
    mongoc_cleanup();
  }
  int64_t Count(const char* collection) {
    mongoc_collection_t* coll =
        mongoc_client_get_collection(client_, StackConfig().mongo.database.c_str(), collection);
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(coll, &filter, nullptr, nullptr, nullptr, &error);
    EXPECT_GE(n, 0) << error.message;
    mongoc_collection_destroy(coll);
    return n;
  }
  std::set<std::string> MovieIds() {
    std::set<std::string> ids;
    mongoc_collection_t* coll =
        mongoc_client_get_collection(client_, StackConfig().mongo.database.c_str(), "movies");
    bson_t filter = BSON_INITIALIZER;
    bson_t* opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, opts, nullptr);
    const bson_t* doc;
    while (mongoc_cursor_next(cursor, &doc)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
        char hex[25];
        bson_oid_to_string(bson_iter_oid(&it), hex);
        ids.insert(hex);
      }
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    mongoc_collection_destroy(coll);
    return ids;
  }

 private:
  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_t* client_ = nullptr;
};

TEST(SeedCounts, MySqlTablesHaveTheirScaledCounts) {
  const auto expected = ExpectedCounts(CinemaScale());
  for (const auto& [table, want] : expected.at("mysql"))
    EXPECT_EQ(std::stoll(MySql("SELECT COUNT(*) FROM " + table)[0][0]), want) << table;
}

TEST(SeedCounts, PostgresTablesHaveTheirScaledCounts) {
  const auto expected = ExpectedCounts(CinemaScale());
  for (const auto& [table, want] : expected.at("postgresql"))
    EXPECT_EQ(std::stoll(Pg("SELECT COUNT(*) FROM " + table)[0][0]), want) << table;
}

TEST(SeedCounts, MongoCollectionsHaveTheirScaledCounts) {
  const auto expected = ExpectedCounts(CinemaScale());
  Mongo mongo;
  for (const auto& [coll, want] : expected.at("mongodb"))
    EXPECT_EQ(mongo.Count(coll.c_str()), want) << coll;
}

TEST(SeedRelations, SeatsBelongToRoomsAndFillTheirCapacity) {
  EXPECT_EQ(MySql("SELECT COUNT(*) FROM seats s LEFT JOIN rooms r ON r.id = s.room_id "
                  "WHERE r.id IS NULL")[0][0],
            "0");
  EXPECT_EQ(MySql("SELECT COUNT(*) FROM rooms r WHERE r.capacity <> "
                  "(SELECT COUNT(*) FROM seats s WHERE s.room_id = r.id)")[0][0],
            "0");
}

TEST(SeedRelations, ReservationsPointToUsersSchedulesAndMovies) {
  EXPECT_EQ(Pg("SELECT COUNT(*) FROM reservations r LEFT JOIN users u ON u.id = r.user_id "
               "WHERE u.id IS NULL")[0][0],
            "0");
  // Each reservation's total is the sum of its reserved seats' prices.
  EXPECT_EQ(Pg("SELECT COUNT(*) FROM reservations r WHERE r.total_amount <> "
               "(SELECT SUM(price) FROM reserved_seats s WHERE s.reservation_id = r.id)")[0][0],
            "0");
  EXPECT_EQ(Pg("SELECT COUNT(*) FROM payments p LEFT JOIN reservations r "
               "ON r.id = p.reservation_id WHERE r.id IS NULL")[0][0],
            "0");
  // Cross-database: schedule ids exist in MySQL with the same movie as the reservation.
  std::set<std::string> schedules;
  for (auto& row : MySql("SELECT CONCAT(id, ':', movie_id) FROM schedules"))
    schedules.insert(row[0]);
  auto pairs = Pg("SELECT DISTINCT schedule_id || ':' || movie_id FROM reservations");
  ASSERT_FALSE(pairs.empty());
  for (auto& row : pairs) EXPECT_TRUE(schedules.count(row[0])) << row[0];
  // MongoDB: every movie referenced by a schedule exists.
  std::set<std::string> movies = Mongo().MovieIds();
  ASSERT_EQ(static_cast<int64_t>(movies.size()),
            ExpectedCounts(CinemaScale())["mongodb"]["movies"]);
  for (auto& row : MySql("SELECT DISTINCT movie_id FROM schedules"))
    EXPECT_TRUE(movies.count(row[0])) << row[0];
}

TEST(SeedTypes, TheDatasetCoversTheTypesUsersHit) {
  // NULLs, non-ASCII text, long text, JSON, BLOB, and ties on updated_at (MySQL).
  auto r = MySql(
      "SELECT SUM(features IS NULL), SUM(floor_plan IS NULL), SUM(LENGTH(floor_plan) > 0), "
      "SUM(name <> CONVERT(name USING ascii)), MAX(CHAR_LENGTH(notes)) FROM rooms");
  EXPECT_NE(r[0][0], "0");
  EXPECT_NE(r[0][1], "0");
  EXPECT_NE(r[0][2], "0");
  EXPECT_NE(r[0][3], "0");
  EXPECT_GE(std::stoll(r[0][4]), 1000);
  auto ties = MySql("SELECT MAX(c) FROM (SELECT COUNT(*) c FROM seats GROUP BY updated_at) t");
  EXPECT_GT(std::stoll(ties[0][0]), 1);
  // PostgreSQL: NaN/Infinity doubles, arrays, JSONB, BYTEA, enum, NUMERIC scale.
  auto p =
      Pg("SELECT COUNT(*) FILTER (WHERE engagement_score = 'NaN'), "
         "COUNT(*) FILTER (WHERE engagement_score = 'Infinity'), "
         "COUNT(*) FILTER (WHERE engagement_score IS NULL), "
         "COUNT(*) FILTER (WHERE cardinality(favorite_genres) > 1), "
         "COUNT(*) FILTER (WHERE avatar IS NOT NULL), "
         "COUNT(*) FILTER (WHERE full_name ~ '[^[:ascii:]]') FROM users");
  for (int i = 0; i < 6; ++i) EXPECT_NE(p[0][i], "0") << "column " << i;
  auto pay = Pg("SELECT amount::text FROM payments ORDER BY id LIMIT 1");
  EXPECT_EQ(pay[0][0].size() - pay[0][0].find('.') - 1, 4u) << pay[0][0];
}

}  // namespace
}  // namespace di::testing
