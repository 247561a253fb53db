// The PostgreSQL source's catalog and lookups (sources/postgres_internal.h): its tables,
// a table's columns (types, enum labels, domains) and primary key, indexes, row estimates,
// rows by a column's values, and the readers it opens (postgres_reader.cpp).
#include "sources/postgres_source.h"

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "sources/postgres_internal.h"

namespace di {
namespace postgres_internal {

Result<std::vector<std::string>> PgSource::ListTables() {
  ASSIGN_OR_RETURN(auto rows,
                   Query("SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || "
                         "'.' || c.relname END "
                         "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                         "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND "
                         "n.nspname NOT LIKE 'pg_toast%' "
                         "ORDER BY 1",
                         {}));
  std::vector<std::string> out;
  for (auto& r : rows) out.push_back(r[0]);
  return out;
}

Result<TableInfo> PgSource::Describe(const std::string& table, const std::string& cursor_column) {
  ASSIGN_OR_RETURN(auto exists, Query("SELECT to_regclass($1)::oid", {QuoteTable(table)}));
  if (exists.empty() || exists[0][0].empty())
    return NotFound(Where() + ": table '" + table + "' does not exist");
  const std::string& oid = exists[0][0];
  ASSIGN_OR_RETURN(
      auto cols,
      Query("SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "b.oid, b.typtype, COALESCE(e.oid, 0), COALESCE(e.typtype, ''), "
            "COALESCE((SELECT json_agg(l.enumlabel ORDER BY l.enumsortorder)::text FROM pg_enum l "
            "WHERE l.enumtypid = CASE WHEN t.typtype = 'e' THEN t.oid WHEN e.typtype = 'e' "
            "THEN e.oid END), ''), "
            "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END, "
            // A user-defined composite or range (or an array of one): its definition.
            "COALESCE((SELECT '(' || string_agg(quote_ident(f.attname) || ' ' || "
            "format_type(f.atttypid, f.atttypmod), ', ' ORDER BY f.attnum) || ')' FROM "
            "pg_attribute f JOIN pg_type u ON u.oid = COALESCE(e.oid, b.oid) WHERE f.attrelid = "
            "u.typrelid AND u.typtype = 'c' AND f.attnum > 0 AND NOT f.attisdropped AND "
            "u.typnamespace <> 'pg_catalog'::regnamespace), (SELECT 'RANGE (subtype = ' || "
            "format_type(r.rngsubtype, NULL) || ')' FROM pg_range r JOIN pg_type u ON u.oid = "
            "r.rngtypid WHERE r.rngtypid = COALESCE(e.oid, b.oid) AND u.typnamespace <> "
            "'pg_catalog'::regnamespace), '') "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
            "LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A' "
            "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            {oid}));
  ASSIGN_OR_RETURN(
      auto pk,
      Query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            {oid}));
  TableInfo t;
  t.engine = Engine::kPostgres;
  t.database = o_.db.database;
  t.name = table;
  std::vector<ColumnConv> convs;
  for (auto& c : cols) {
    ColumnInfo col{c[0], c[1], c[2] == "t", {}, "", ""};
    if (!c[7].empty()) {
      auto labels = nlohmann::json::parse(c[7], nullptr, false);
      if (labels.is_array())
        for (const auto& l : labels) col.enum_values.push_back(l.get<std::string>());
    }
    col.domain_of = c[8];
    col.type_definition = c[9];
    t.columns.push_back(std::move(col));
    if (c[0] == cursor_column) t.cursor_column = cursor_column;
  }
  for (auto& p : pk) t.primary_key.push_back(p[0]);
  convs_[table] = ConvsFrom(cols);
  return t;
}

Result<std::unique_ptr<RowReader>> PgSource::Read(const TableInfo& table,
                                                  const ReadOptions& options) {
  RETURN_IF_ERROR(CheckKeysetRead(Where(), table, options));
  ASSIGN_OR_RETURN(const std::vector<ColumnConv>* convs, ConvsOf(table));
  return std::unique_ptr<RowReader>(new PgReader(*this, table, options, *convs));
}

Result<bool> PgSource::HasIndexLeadingWith(const TableInfo& table, const std::string& column) {
  ASSIGN_OR_RETURN(auto rows,
                   Query("SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                         "i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = "
                         "to_regclass($1) AND a.attname = $2",
                         {QuoteTable(table.name), column}));
  return !rows.empty() && rows[0][0] != "0";
}

int64_t PgSource::EstimateRows(const TableInfo& table) {
  // A partitioned parent has no tuples of its own: add its partitions'.
  auto rows = Query(
      "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), -1)::bigint FROM pg_class c "
      "WHERE c.oid = to_regclass($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits "
      "WHERE inhparent = to_regclass($1))",
      {QuoteTable(table.name)});
  if (!rows.ok() || rows->empty()) return -1;
  return std::stoll((*rows)[0][0]);
}

Result<std::vector<std::vector<Value>>> PgSource::Lookup(const TableInfo& table,
                                                         const std::string& column,
                                                         const std::vector<Value>& values) {
  auto rows = LookupOnce(table, column, values);
  if (rows.ok() || !ConnectionLost() || reads_open_ > (joined_ ? 1 : 0)) return rows;
  const std::string token = joined_token_;
  std::string note;
  if (!Reconnect(&note).ok()) return rows;
  if (!token.empty()) {
    std::string missed;
    if (auto joined = JoinSnapshot(token, &missed); !joined.ok())
      return Status(rows.status().code(),
                    rows.status().message() + "; reconnected, but " + joined.status().message());
  }
  return LookupOnce(table, column, values);
}

Result<std::vector<std::vector<Value>>> PgSource::LookupOnce(const TableInfo& table,
                                                             const std::string& column,
                                                             const std::vector<Value>& values) {
  std::vector<std::vector<Value>> rows;
  if (values.empty()) return rows;
  ASSIGN_OR_RETURN(const std::vector<ColumnConv>* convs_of, ConvsOf(table));
  const auto& convs = *convs_of;
  size_t at = table.columns.size();
  for (size_t i = 0; i < table.columns.size(); ++i)
    if (table.columns[i].name == column) at = i;
  if (at == table.columns.size())
    return InvalidArgument(Where() + ": table '" + table.name + "' has no column '" + column + "'");
  std::string sql = "SELECT ";
  for (size_t i = 0; i < table.columns.size(); ++i)
    sql += (i ? ", " : "") + QuoteIdent(table.columns[i].name);
  sql += " FROM " + QuoteTable(table.name) + " WHERE " + QuoteIdent(column) + " IN (";
  std::vector<std::string> params;
  for (size_t i = 0; i < values.size(); ++i) {
    params.push_back(TextFor(convs[at], values[i]));
    sql += (i ? ", $" : "$") + std::to_string(i + 1) + "::" + table.columns[at].source_type;
  }
  sql += ")";
  std::vector<const char*> p;
  for (const auto& x : params) p.push_back(x.c_str());
  PGresult* r = PQexecParams(conn(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                             nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    Status s = Unavailable(Where() + ": reading table '" + table.name +
                           "' failed: " + std::string(Trim(PQresultErrorMessage(r))));
    PQclear(r);
    return s;
  }
  AppendRows(r, convs, &rows);
  PQclear(r);
  return rows;
}

Result<const std::vector<ColumnConv>*> PgSource::ConvsOf(const TableInfo& table) {
  auto it = convs_.find(table.name);
  if (it == convs_.end()) {
    ASSIGN_OR_RETURN(TableInfo fresh, Describe(table.name, table.cursor_column));
    (void)fresh;
    it = convs_.find(table.name);
  }
  return &it->second;
}

}  // namespace postgres_internal

Result<std::unique_ptr<Source>> OpenPostgresSource(const SqlSourceOptions& options) {
  auto src = std::make_unique<postgres_internal::PgSource>(options);
  RETURN_IF_ERROR(src->Connect());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace di
