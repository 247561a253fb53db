// A table of 1M rows streams with flat memory: the peak RSS while reading it all stays
// within a fixed bound above the start, independent of the table's size.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "sources/mysql_source.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

constexpr int64_t kRows = 1000000;
constexpr int64_t kBoundKb = 64 * 1024;  // the 1M rows hold ~150 MB of text

int64_t StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  return -1;
}

bool UnderAsan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

// Streams the whole table; returns rows read and checks the RSS peak.
void StreamAndMeasure(Source& src, const std::string& table) {
  auto info = src.Describe(table);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  { std::ofstream("/proc/self/clear_refs") << "5"; }  // resets the peak (VmHWM)
  int64_t start = StatusKb("VmRSS");
  auto reader = src.Read(*info, {1000, std::nullopt, false});
  ASSERT_TRUE(reader.ok());
  RecordBatch b;
  int64_t rows = 0, bytes = 0;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    rows += static_cast<int64_t>(b.rows.size());
    for (const auto& r : b.rows) bytes += static_cast<int64_t>(r[1].as<std::string>().size());
  }
  int64_t peak = StatusKb("VmHWM");
  EXPECT_EQ(rows, kRows);
  EXPECT_GT(bytes, 100 * kRows);
  EXPECT_LT(peak - start, kBoundKb) << "peak RSS grew by " << (peak - start) / 1024 << " MB";
  ::testing::Test::RecordProperty("peak_rss_growth_kb", std::to_string(peak - start));
  std::printf("%s: %lld rows, peak RSS +%lld KB\n", table.c_str(), static_cast<long long>(rows),
              static_cast<long long>(peak - start));
}

TEST(Memory, PostgresMillionRowsStreamWithFlatMemory) {
  if (UnderAsan())
    GTEST_SKIP() << "ASan's quarantine keeps freed memory; checked in the plain build";
  PgPtr pg = ConnectPg();
  PGresult* r =
      PQexec(pg.get(),
             "SET client_min_messages = warning; DROP TABLE IF EXISTS big_rows; "
             "CREATE TABLE big_rows AS SELECT g::bigint AS id, repeat(md5(g::text), 4) AS payload, "
             "(g % 100000)::numeric(12,2) / 7 AS amount, now() AS updated_at "
             "FROM generate_series(1, 1000000) g");
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
  PQclear(r);
  auto src = OpenPostgresSource({StackConfig().postgres});
  ASSERT_TRUE(src.ok());
  StreamAndMeasure(**src, "big_rows");
  PQclear(PQexec(pg.get(), "DROP TABLE big_rows"));
}

TEST(Memory, MySqlMillionRowsStreamWithFlatMemory) {
  if (UnderAsan())
    GTEST_SKIP() << "ASan's quarantine keeps freed memory; checked in the plain build";
  bool ok = false;
  MySqlPtr db = ConnectMySql(&ok);
  ASSERT_TRUE(ok);
  for (const char* sql :
       {"DROP TABLE IF EXISTS big_rows",
        "CREATE TABLE big_rows (id BIGINT PRIMARY KEY, payload VARCHAR(200), amount DECIMAL(12,2), "
        "updated_at DATETIME(6))",
        "INSERT INTO big_rows SELECT seq, REPEAT(MD5(seq), 4), (seq % 100000) / 7, NOW(6) "
        "FROM seq_1_to_1000000"})
    ASSERT_EQ(mysql_query(db.get(), sql), 0) << mysql_error(db.get());
  auto src = OpenMySqlSource({StackConfig().mysql});
  ASSERT_TRUE(src.ok());
  StreamAndMeasure(**src, "big_rows");
  mysql_query(db.get(), "DROP TABLE big_rows");
}

}  // namespace
}  // namespace di::testing
