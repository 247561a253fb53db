// The public reference data (Sakila in MariaDB, Pagila in PostgreSQL, sample_mflix in the
// MongoDB-compatible server, loaded by scripts/load-testdata) read through the sources and
// compared, every row of every table, with what the database itself reports through its
// own client (mariadb, psql, pymongo).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/json_encode.h"
#include "core/strings.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;

bool Present(const char* what) {
  return TestDataPresent(what);
}

#define SKIP_WITHOUT(dir)                                                            \
  if (!Present(dir))                                                                 \
  GTEST_SKIP() << "reference data '" << dir << "' not found under " << TestDataDir() \
               << " (set TESTDATA_DIR)"

// Our value as the text the database's expression below produces; JSON-valued columns
// (json, arrays) are compared as parsed JSON by the caller.
std::string AsText(const Value& v) {
  if (v.is_null()) return "\\N";
  std::string j = ToJson(v, JsonStyle::kPlain);
  if (!j.empty() && j.front() == '"') return json::parse(j).get<std::string>();
  return j;
}

// Splits client output: rows by '\n', fields by '\x1f'.
std::vector<std::vector<std::string>> SplitRows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  for (std::string_view line : Split(out, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    for (std::string_view x : Split(line, '\x1f')) f.emplace_back(x);
    rows.push_back(std::move(f));
  }
  return rows;
}

std::vector<std::vector<Value>> ReadAll(Source& src, const TableInfo& t) {
  auto reader = src.Read(t, {500, std::nullopt, false});
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::vector<Value>> rows;
  RecordBatch b;
  while (true) {
    auto more = (*reader)->Next(&b);
    EXPECT_TRUE(more.ok()) << t.name << ": " << more.status().ToString();
    if (!more.ok() || !*more) break;
    for (auto& r : b.rows) rows.push_back(std::move(r));
  }
  return rows;
}

void CompareTable(const TableInfo& t, const std::vector<std::vector<Value>>& ours,
                  const std::vector<std::vector<std::string>>& theirs,
                  const std::vector<bool>& as_json, size_t* cells) {
  ASSERT_EQ(ours.size(), theirs.size()) << t.name;
  for (size_t r = 0; r < ours.size(); ++r) {
    ASSERT_EQ(theirs[r].size(), t.columns.size()) << t.name << " row " << r;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      ++*cells;
      const std::string& want = theirs[r][c];
      if (as_json[c] && !ours[r][c].is_null()) {
        EXPECT_EQ(json::parse(ToJson(ours[r][c], JsonStyle::kPlain)), json::parse(want))
            << t.name << " row " << r << " column " << t.columns[c].name;
      } else {
        EXPECT_EQ(AsText(ours[r][c]), want)
            << t.name << " row " << r << " column " << t.columns[c].name << " ("
            << t.columns[c].source_type << ")";
      }
    }
  }
}

TEST(TestData, SakilaEveryRowMatchesTheMariadbClient) {
  SKIP_WITHOUT("sakila");
  SqlSettings s = StackConfig().mysql;
  s.database = "sakila";
  auto src = OpenMySqlSource({s});
  ASSERT_TRUE(src.ok()) << src.status().ToString() << " (run scripts/load-testdata)";
  auto tables = (*src)->ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), 16u);  // base tables; the 7 views are not listed
  size_t cells = 0;
  for (const auto& name : *tables) {
    auto t = (*src)->Describe(name);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::string select, order;
    std::vector<bool> as_json;
    for (const auto& c : t->columns) {
      std::string q = "`" + c.name + "`", ty = c.source_type, e;
      if (ty == "tinyint(1)")
        e = "IF(" + q + ", 'true', 'false')";
      else if (StartsWith(ty, "datetime") || StartsWith(ty, "timestamp"))
        e = "DATE_FORMAT(" + q + ", '%Y-%m-%dT%H:%i:%s.%fZ')";
      else if (ty.find("blob") != std::string::npos || StartsWith(ty, "geometry") ||
               StartsWith(ty, "binary"))
        e = "REPLACE(TO_BASE64(" + q + "), '\\n', '')";
      else
        e = q;
      select += (select.empty() ? "" : ", ") + std::string("IFNULL(") + e + ", '\\\\N')";
      as_json.push_back(ty == "json");
    }
    for (const auto& k : t->primary_key) order += (order.empty() ? "" : ", ") + ("`" + k + "`");
    std::string sql = "SELECT CONCAT_WS(CHAR(31), " + select + ") FROM `" + name + "`" +
                      (order.empty() ? "" : " ORDER BY " + order);
    std::string file = ::testing::TempDir() + "/sakila.sql";
    { std::ofstream(file) << sql << ";\n"; }
    std::string out;
    ASSERT_EQ(RunCommand("MYSQL_PWD=" + s.password + " mariadb --no-defaults --protocol=tcp -h " +
                             s.host + " -P " + std::to_string(s.port) + " -u " + s.user +
                             " -N -B -r sakila < " + file,
                         &out),
              0)
        << out;
    auto ours = ReadAll(**src, *t);
    CompareTable(*t, ours, SplitRows(out), as_json, &cells);
    if (name == "film") {
      EXPECT_EQ(ours.size(), 1000u);
    }
    if (name == "rental") {
      EXPECT_EQ(ours.size(), 16044u);
    }
  }
  EXPECT_EQ(cells, 292199u);  // every column of every row of the 16 tables
}

TEST(TestData, PagilaEveryRowMatchesPsql) {
  SKIP_WITHOUT("pagila");
  SqlSettings s = StackConfig().postgres;
  s.database = "pagila";
  auto src = OpenPostgresSource({s});
  ASSERT_TRUE(src.ok()) << src.status().ToString() << " (run scripts/load-testdata)";
  auto tables = (*src)->ListTables();
  ASSERT_TRUE(tables.ok());
  // payment is partitioned: its partitions are not listed apart, so no row is read twice.
  EXPECT_NE(std::find(tables->begin(), tables->end(), "payment"), tables->end());
  EXPECT_EQ(std::find(tables->begin(), tables->end(), "payment_p2022_01"), tables->end());
  size_t cells = 0;
  for (const auto& name : *tables) {
    auto t = (*src)->Describe(name);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::string select, order;
    std::vector<bool> as_json;
    for (const auto& c : t->columns) {
      std::string q = "\"" + c.name + "\"", ty = c.source_type, e;
      bool js = false;
      if (ty == "boolean")
        e = "CASE WHEN " + q + " THEN 'true' ELSE 'false' END";
      else if (ty == "timestamp with time zone")
        e = "to_char(" + q + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
      else if (ty == "timestamp without time zone")
        e = "to_char(" + q + ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
      else if (ty == "bytea")
        e = "replace(encode(" + q + ", 'base64'), E'\\n', '')";
      else if (ty.find("[]") != std::string::npos)
        e = "array_to_json(" + q + ")::text", js = true;
      else if (ty == "json" || ty == "jsonb")
        e = q + "::text", js = true;
      else
        e = "concat(" + q + ")";  // the type's own output (char(n) keeps its padding)
      select += (select.empty() ? "" : " || chr(31) || ") + std::string("CASE WHEN ") + q +
                " IS NULL THEN '\\N' ELSE " + e + " END";
      as_json.push_back(js);
    }
    for (const auto& k : t->primary_key) order += (order.empty() ? "" : ", ") + ("\"" + k + "\"");
    std::string sql =
        "SELECT " + select + " FROM " + name + (order.empty() ? "" : " ORDER BY " + order);
    std::string file = ::testing::TempDir() + "/pagila.sql";
    { std::ofstream(file) << sql << ";\n"; }
    std::string out;
    ASSERT_EQ(
        RunCommand("PGPASSWORD=" + s.password + " PGTZ=UTC psql -X -A -t -h " + s.host + " -p " +
                       std::to_string(s.port) + " -U " + s.user + " -d pagila -f " + file,
                   &out),
        0)
        << out;
    auto ours = ReadAll(**src, *t);
    CompareTable(*t, ours, SplitRows(out), as_json, &cells);
    if (name == "payment") {
      EXPECT_EQ(ours.size(), 16049u);
    }
  }
  EXPECT_EQ(cells, 297320u);  // every column of every row
}

TEST(TestData, MflixEveryDocumentMatchesPymongo) {
  SKIP_WITHOUT("mflix");
  MongoSettings m = StackConfig().mongo;
  m.uri = m.uri.substr(0, m.uri.rfind('/')) + "/mflix";
  m.database = "mflix";
  auto src = OpenMongoSource(m);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::string out;
  ASSERT_EQ(
      RunCommand(
          VenvPython() +
              " -c \"import pymongo, json, sys; from bson import json_util as u; "
              "db = pymongo.MongoClient('" +
              m.uri +
              "').get_default_database(); "
              "print(json.dumps({c: [u.dumps(d, json_options=u.CANONICAL_JSON_OPTIONS) "
              "for d in db[c].find().sort('_id', 1)] for c in db.list_collection_names()}))\"",
          &out),
      0)
      << out.substr(0, 2000);
  json theirs = json::parse(out);
  auto tables = (*src)->ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables,
            (std::vector<std::string>{"comments", "embedded_movies", "movies", "theaters"}));
  size_t docs = 0;
  for (const auto& name : *tables) {
    auto t = (*src)->Describe(name);
    ASSERT_TRUE(t.ok());
    auto ours = ReadAll(**src, *t);
    const auto& want = theirs[name];
    ASSERT_EQ(ours.size(), want.size()) << name;
    for (size_t i = 0; i < ours.size(); ++i, ++docs)
      ASSERT_EQ(json::parse(ToJson(ours[i][0], JsonStyle::kExtended)),
                json::parse(want[i].get<std::string>()))
          << name << " document " << i;
  }
  EXPECT_EQ(docs, 1000u + 1000u + 1564u + 101u);
}

}  // namespace
}  // namespace di::testing
