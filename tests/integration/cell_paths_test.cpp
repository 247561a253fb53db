// The cell path against the value path on the stack's SQL sources: the backup records and
// DynamoDB AttributeValues written from a read's cells (the server's text) are byte for byte
// those written from its Values, for every column type of a table made for it.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "sinks/backup_record.h"
#include "sinks/cell_encoding.h"
#include "sinks/dynamo_item.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;
// The records written from the cells of NextCells (the server's text) against the value path
// (Next, then RecordWriter) for one table, in a full read and in a key-order read: the same
// bytes, one JSON object per line, the same keyset values decoded from the cells. Returns the
// full read's records.
std::string EncodedRecords(Source& src, const std::string& table, const std::string& label) {
  SCOPED_TRACE(label + " " + table);
  auto info = src.Describe(table);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  if (!info.ok()) return "";
  const std::vector<size_t> keyset = KeysetColumns(*info);
  std::string full;
  for (bool by_key : {false, true}) {
    SCOPED_TRACE(by_key ? "key order" : "full read");
    std::string want, got;  // the value path's records, the cells'
    std::vector<std::string> want_keys, got_keys;
    const ReadOptions o{333, std::nullopt, false, by_key};
    auto reader = src.Read(*info, o);
    EXPECT_TRUE(reader.ok());
    RecordWriter records(*info);
    RecordBatch rb;
    while (reader.ok() && *(*reader)->Next(&rb))
      for (const auto& row : rb.rows) {
        records.Append(row, want);
        want += '\n';
        for (size_t k : keyset) want_keys.push_back(ToJson(row[k], JsonStyle::kPlain));
      }
    reader = src.Read(*info, o);
    EXPECT_TRUE(reader.ok() && (*reader)->CanReadCells());
    if (!reader.ok() || !(*reader)->CanReadCells()) return "";
    CellBatch cb;
    size_t rows = 0;
    while (true) {
      auto more = (*reader)->NextCells(&cb);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      EXPECT_LE(cb.rows(), 333u);
      EXPECT_EQ(cb.columns(), info->columns.size());
      for (size_t r = 0; r < cb.rows(); ++r) {
        records.AppendCells(cb, r, got);
        got += '\n';
        for (size_t k : keyset) got_keys.push_back(ToJson(cb.value(r, k), JsonStyle::kPlain));
      }
      rows += cb.rows();
    }
    EXPECT_EQ(got, want);
    EXPECT_EQ(got_keys, want_keys);
    size_t lines = 0, at = 0;
    for (size_t nl; (nl = got.find('\n', at)) != std::string::npos; at = nl + 1, ++lines) {
      json j = json::parse(got.substr(at, nl - at), nullptr, false);
      EXPECT_TRUE(j.is_object()) << "line " << lines << ": " << got.substr(at, nl - at);
    }
    EXPECT_EQ(lines, rows);
    EXPECT_GT(rows, 0u);
    if (!by_key) full = got;
  }
  return full;
}

// The attribute values written from the cells of an ordered read (by `cursor`) against the
// value path (Next, then AppendAttributeValue): the same text and size per cell, the same
// NULLs, warnings and page positions; and the same from a full read's cells.
void ExpectEncodedAttributes(Source& src, const std::string& table, const std::string& cursor,
                             size_t page, const std::string& label) {
  SCOPED_TRACE(label + " " + table + " attribute values");
  auto info = src.Describe(table, cursor);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto position = [](const Position& p) {
    std::string s = ToJson(p.cursor, JsonStyle::kPlain);
    for (const auto& k : p.key) s += " " + ToJson(k, JsonStyle::kPlain);
    return s;
  };
  for (bool ordered : {true, false}) {
    SCOPED_TRACE(ordered ? "ordered" : "full read");
    std::vector<std::string> want, got;  // per cell: text, size, NULL
    std::vector<std::string> want_last, got_last;
    std::vector<std::string> want_warnings, got_warnings;
    const ReadOptions o{page, std::nullopt, ordered};
    auto reader = src.Read(*info, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    RecordBatch rb;
    while (*(*reader)->Next(&rb)) {
      for (const auto& row : rb.rows)
        for (const auto& v : row) {
          std::string text;
          size_t size = AppendAttributeValue(v, text, &want_warnings);
          want.push_back(text + " " + std::to_string(size) + (v.is_null() ? " NULL" : ""));
        }
      if (ordered) want_last.push_back(position(*rb.last));
    }
    reader = src.Read(*info, o);
    ASSERT_TRUE(reader.ok() && (*reader)->CanReadCells());
    CellBatch cb;
    while (true) {
      auto more = (*reader)->NextCells(&cb);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      ASSERT_EQ(cb.columns(), info->columns.size());
      for (size_t r = 0; r < cb.rows(); ++r)
        for (size_t c = 0; c < cb.columns(); ++c) {
          std::string text;
          size_t size = AppendCellAsAttributeValue(cb, r, c, text, &got_warnings);
          got.push_back(text + " " + std::to_string(size) + (cb.null(r, c) ? " NULL" : ""));
        }
      if (ordered) got_last.push_back(position(*cb.last));
    }
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(got, want);
    EXPECT_EQ(got_warnings, want_warnings);
    EXPECT_EQ(got_last, want_last);
  }
}

// PostgreSQL (the COPY text and the ordered reads' pages): edge values of every type family,
// in two zones (naive timestamps move with SOURCE_TZ), and the cinema tables.
TEST(Sources, PostgresEncodedRecordsAndAttributeValuesEqualTheValuePath) {
  const Config& c = StackConfig();
  auto exec = [&](const std::string& sql) {
    PGconn* conn = PQconnectdb(PgConninfo(c.postgres).c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
  };
  exec(R"SQL(
DROP TABLE IF EXISTS enc_edge; DROP TYPE IF EXISTS enc_mood;
CREATE TYPE enc_mood AS ENUM ('sad', 'ok', 'happy "quoted"');
CREATE TABLE enc_edge (id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, n numeric,
  f8 double precision, f4 real, b boolean, t text, vc varchar(20), ch char(5), j json,
  jb jsonb, d date, ts timestamp, tstz timestamptz, tm time, iv interval, u uuid, by bytea,
  ai integer[], ab bigint[], at text[], aj jsonb[], m enc_mood, mo money,
  updated_at timestamptz);
INSERT INTO enc_edge VALUES
 (1, -32768, -2147483648, -9223372036854775808, -0.000100, 'NaN', 'Infinity', true,
  E'tab\there\nnew line \\ back "quote" \u00f1 \u0001', '', 'ab', E'{\n  "a": [1,\r\n 2], "s": "x\\ny"\n}',
  '{"k": null}', '0001-01-01', '2000-02-29 23:59:59.5', '1999-12-31 23:00:00.123456+00',
  '24:00:00', '1 year 2 mons -3 days 04:05:06.7', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  E'\\x00ff10', '{1,-2,0,2147483647}', '{-9223372036854775808,9223372036854775807}',
  '{"a b",NULL,"c\"d","e\\\\f",""}', ARRAY['{"x":1}'::jsonb], 'happy "quoted"', '12.34',
  '2025-01-01 00:00:00+00'),
 (2, NULL, NULL, NULL, 'NaN', '-Infinity', '-0', false, NULL, NULL, NULL, NULL, NULL,
  'infinity', '-infinity', 'infinity', NULL, NULL, NULL, NULL, '{}', '{NULL,1}', '{}', NULL,
  NULL, NULL, '2025-01-01 00:00:00+00'),
 (3, 0, 7, 9223372036854775807, 123456789012345678901234567890.123456789, 1e-300, 3.4e38,
  NULL, 'plain', 'v', 'c', '[]', '[1, "two", {"3": [true]}]', '0044-03-15 BC',
  '0044-03-15 12:00:00 BC', '10000-01-01 00:00:00+00', '00:00:00.000001', '0', NULL, '\x',
  '{{1,2},{3,4}}', '{007}', '{"{}",NULL}', '{}', 'sad', '-0.01', NULL),
 (4, 1, 1, 1, 1, 1, 1, true, E'\\N is not null', 'x', 'y', '"str"', '1', '2024-02-29',
  '2024-06-30 12:00:00', '2024-06-30 12:00:00.000010+00', '12:34:56.789', '1 day', NULL,
  E'\\x5c', '{1}', '{1}', '{"\\N"}', '{}', 'ok', '0', '2025-06-01 10:00:00.000001+00');
)SQL");
  auto madrid = TimeZone::Load("Europe/Madrid");
  ASSERT_TRUE(madrid.ok());
  for (auto zone : {TimeZone::Utc(), *madrid}) {
    auto src = OpenPostgresSource({c.postgres, zone});
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    const std::string label = zone->is_utc() ? "UTC" : "Madrid";
    std::string edge = EncodedRecords(**src, "enc_edge", label);
    EXPECT_NE(edge.find("\"j\":{  \"a\": [1, 2], \"s\": \"x\\ny\"}"), std::string::npos) << edge;
    EXPECT_NE(edge.find("\"ai\":[1,-2,0,2147483647]"), std::string::npos) << edge;
    for (std::string table : {"reservations", "payments"}) EncodedRecords(**src, table, label);
    ExpectEncodedAttributes(**src, "enc_edge", "id", 3, label);
    for (std::string table : {"reservations", "payments"})
      ExpectEncodedAttributes(**src, table, "updated_at", 1000, label);
  }
  exec("DROP TABLE enc_edge; DROP TYPE enc_mood");
}

// MariaDB (the streamed text result): the same, zero dates and unsigned 64-bit included.
TEST(Sources, MysqlEncodedRecordsAndAttributeValuesEqualTheValuePath) {
  bool ok = false;
  MySqlPtr db = ConnectMySql(&ok);
  ASSERT_TRUE(ok);
  const char* sql = R"SQL(
SET SESSION sql_mode = '';
CREATE OR REPLACE TABLE enc_edge (id BIGINT PRIMARY KEY, flag TINYINT(1), ti TINYINT,
  iu INT UNSIGNED, bu BIGINT UNSIGNED, bi BIGINT, de DECIMAL(65,30), fl FLOAT, db DOUBLE,
  bt BIT(12), d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), yr YEAR,
  ch CHAR(4), vc VARCHAR(64), tx TEXT, vb VARBINARY(16), bl BLOB, js JSON,
  en ENUM('a', 'b "q"'), st SET('x', 'y'), updated_at DATETIME(6));
INSERT INTO enc_edge VALUES
 (1, 2, -128, 4294967295, 18446744073709551615, -9223372036854775808,
  -12345678901234567890123456789012345.123456789012345678901234567890, 3.5e38, -1e-300,
  b'101010101010', '0000-00-00', '0000-00-00 00:00:00', NULL, '-838:59:59.000000', 2155,
  'ab', 'tab	here
new \\ "q" \xc3\xb1', '', X'00FF5C22', X'', '{\n  "a": [1,\r\n 2]}',
  'b "q"', 'x,y', '2025-03-30 02:30:00'),
 (2, 0, 0, 0, 0, 0, 0, 0, 0, b'0', '1000-01-01', '1000-01-01 00:00:00.000001',
  '1970-01-01 00:00:01', '00:00:00', 1901, '', NULL, NULL, NULL, NULL, '[]', 'a', '',
  '2025-10-26 02:30:00.5'),
 (3, 1, 127, 7, 9223372036854775807, 9223372036854775807, 0.1, 1, 1, b'1', '9999-12-31',
  '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59', 0, 'abcd',
  'x', 'y', 'z', 'w', '"s"', NULL, NULL, NULL),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2025-01-01 00:00:00'))SQL";
  ASSERT_EQ(mysql_set_server_option(db.get(), MYSQL_OPTION_MULTI_STATEMENTS_ON), 0);
  ASSERT_EQ(mysql_real_query(db.get(), sql, std::strlen(sql)), 0) << mysql_error(db.get());
  do {
    if (MYSQL_RES* r = mysql_store_result(db.get())) mysql_free_result(r);
  } while (mysql_next_result(db.get()) == 0);
  ASSERT_EQ(mysql_errno(db.get()), 0u) << mysql_error(db.get());
  auto madrid = TimeZone::Load("Europe/Madrid");
  ASSERT_TRUE(madrid.ok());
  const Config& c = StackConfig();
  for (auto zone : {TimeZone::Utc(), *madrid}) {
    auto src = OpenMySqlSource({c.mysql, zone});
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    const std::string label = zone->is_utc() ? "UTC" : "Madrid";
    std::string edge = EncodedRecords(**src, "enc_edge", label);
    EXPECT_NE(edge.find("\"bu\":18446744073709551615"), std::string::npos) << edge;
    EXPECT_NE(edge.find("\"js\":{  \"a\": [1, 2]}"), std::string::npos) << edge;
    for (std::string table : {"rooms", "seats", "schedules"}) EncodedRecords(**src, table, label);
    // MariaDB's cells give attribute values too (migrate used its values before).
    ExpectEncodedAttributes(**src, "enc_edge", "id", 3, label);
    for (std::string table : {"seats", "schedules"})
      ExpectEncodedAttributes(**src, table, "updated_at", 1000, label);
  }
  mysql_query(db.get(), "DROP TABLE enc_edge");
}

}  // namespace
}  // namespace di::testing
