// The MySQL / MariaDB source (sources/mysql_internal.h): connecting (TCP, utf8mb4, a UTC
// session), running queries with their errors named, the catalog (tables, columns, primary
// key, indexes, row estimates), a snapshot pinned with its binlog place, and lookups.
#include "sources/mysql_source.h"

#include <mysql.h>

#include <cstdlib>

#include "core/strings.h"
#include "sources/mysql_internal.h"

namespace di {
namespace mysql_internal {
namespace {

// The client's and the server's errors that mean the connection itself is gone: the server
// went away or was lost mid-query (2006, 2013, 2055; 2026 when TLS carried it: "unexpected
// eof"), cannot be reached (2002, 2003), the session was killed (1927) or timed out (4031),
// the server is shutting down (1053).
bool ConnectionError(unsigned err) {
  switch (err) {
    case 2002:
    case 2003:
    case 2006:
    case 2013:
    case 2026:
    case 2055:
    case 1927:
    case 4031:
    case 1053:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string Quote(std::string_view ident) {
  return QuoteIdentifier(ident, '`');
}

MySqlSource::~MySqlSource() {
  if (db_) mysql_close(db_);
}

Status MySqlSource::Connect() {
  db_ = mysql_init(nullptr);
  unsigned int ct = static_cast<unsigned>(o_.connect_timeout_seconds);
  unsigned int rt = static_cast<unsigned>(o_.read_timeout_seconds);
  mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_options(db_, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_options(db_, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  mysql_options(db_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (Status s = MySqlConnect(db_, o_.db); !s.ok())
    return Status(s.code(), Where() + ": cannot connect: " + s.message());
  // A streamed read waits while its sinks work (backpressure): the server must not give up
  // sending it after its default 60 s (mydumper and mysqldump raise it too).
  return Exec("SET time_zone = '+00:00', net_write_timeout = 3600");
}

Result<std::vector<std::string>> MySqlSource::ListTables() {
  ASSIGN_OR_RETURN(auto rows, Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                                    "TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' "
                                    "ORDER BY TABLE_NAME"));
  std::vector<std::string> out;
  for (auto& r : rows) out.push_back(r[0]);
  return out;
}

Result<TableInfo> MySqlSource::Describe(const std::string& table,
                                        const std::string& cursor_column) {
  std::lock_guard<std::recursive_mutex> turn(conn_mu_);  // (a sink may Describe while serving)
  std::string lit = Literal(table);
  ASSIGN_OR_RETURN(auto cols, Query("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM "
                                    "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                                    "AND TABLE_NAME = " +
                                    lit + " ORDER BY ORDINAL_POSITION"));
  if (cols.empty()) return NotFound(Where() + ": table '" + table + "' does not exist");
  ASSIGN_OR_RETURN(auto checks,
                   Query("SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                         "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = " +
                         lit));
  ASSIGN_OR_RETURN(auto pk,
                   Query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                         "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                         lit + " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION"));
  TableInfo t;
  t.engine = Engine::kMySql;
  t.database = o_.db.database;
  t.name = table;
  for (auto& c : cols) {
    ColumnInfo ci{c[0], c[1], c[2] == "YES", {}, "", ""};
    // MariaDB's JSON is LONGTEXT with a json_valid() check on the column.
    for (auto& ch : checks)
      if (ch[0] == "json_valid(" + Quote(ci.name) + ")") ci.source_type = "json";
    if (ci.name == cursor_column) t.cursor_column = cursor_column;
    t.columns.push_back(std::move(ci));
  }
  for (auto& p : pk) t.primary_key.push_back(p[0]);
  return t;
}

Result<std::unique_ptr<RowReader>> MySqlSource::Read(const TableInfo& table,
                                                     const ReadOptions& options) {
  RETURN_IF_ERROR(CheckKeysetRead(Where(), table, options));
  if (serving_ && !options.ordered())
    return Internal(Where() + ": table '" + table.name +
                    "' cannot be read in one unordered pass while the connection serves "
                    "lookups in its snapshot (read it in key order)");
  std::vector<ColumnConv> convs;
  for (const auto& c : table.columns) convs.push_back(ConvFor(c.source_type));
  return std::unique_ptr<RowReader>(new MySqlReader(*this, table, options, std::move(convs)));
}

Result<LogPosition> MySqlSource::PinSnapshot() {
  ReleaseSnapshot();
  ASSIGN_OR_RETURN(auto bin, Query("SELECT @@log_bin"));
  if (bin.empty() || bin[0][0] != "1")
    return InvalidArgument(Where() +
                           ": log_bin is off, so a snapshot's place in the binlog cannot be "
                           "pinned for change capture; start the server with log_bin, "
                           "server_id, binlog_format=ROW and binlog_row_image=FULL");
  RETURN_IF_ERROR(Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
  in_snapshot_ = true;
  ASSIGN_OR_RETURN(auto status, Query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
  LogPosition p{Engine::kMySql, "", "", 0};
  for (const auto& r : status) {
    if (r.size() < 2) continue;
    if (r[0] == "Binlog_snapshot_file") p.file = r[1];
    if (r[0] == "Binlog_snapshot_position") p.offset = std::strtoull(r[1].c_str(), nullptr, 10);
  }
  if (p.file.empty()) return LogPosition();  // (no binlog position: nothing to record)
  ASSIGN_OR_RETURN(auto gtid, Query("SELECT BINLOG_GTID_POS(" + Literal(p.file) + ", " +
                                    std::to_string(p.offset) + ")"));
  p.position = gtid.empty() ? "" : gtid[0][0];
  return p;
}

void MySqlSource::ReleaseSnapshot() {
  if (in_snapshot_) Exec("COMMIT").ok();
  in_snapshot_ = false;
  serving_ = false;
}

bool MySqlSource::ServeLookupsInSnapshot() {
  serving_ = in_snapshot_;
  return serving_;
}

Result<bool> MySqlSource::HasIndexLeadingWith(const TableInfo& table, const std::string& column) {
  ASSIGN_OR_RETURN(auto rows, Query("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
                                    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                                    Literal(table.name) +
                                    " AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = " + Literal(column)));
  return !rows.empty() && rows[0][0] != "0";
}

int64_t MySqlSource::EstimateRows(const TableInfo& table) {
  auto rows = Query(
      "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
      "AND TABLE_NAME = " +
      Literal(table.name));
  if (!rows.ok() || rows->empty() || (*rows)[0][0].empty()) return -1;
  return std::stoll((*rows)[0][0]);
}

Result<std::vector<std::vector<Value>>> MySqlSource::Lookup(const TableInfo& table,
                                                            const std::string& column,
                                                            const std::vector<Value>& values) {
  std::vector<std::vector<Value>> rows;
  if (values.empty()) return rows;
  std::vector<ColumnConv> convs;
  size_t at = table.columns.size();
  for (size_t i = 0; i < table.columns.size(); ++i) {
    convs.push_back(ConvFor(table.columns[i].source_type));
    if (table.columns[i].name == column) at = i;
  }
  if (at == table.columns.size())
    return InvalidArgument(Where() + ": table '" + table.name + "' has no column '" + column + "'");
  std::lock_guard<std::recursive_mutex> turn(conn_mu_);  // (a paged read may be using it)
  std::string sql = "SELECT ";
  for (size_t i = 0; i < table.columns.size(); ++i)
    sql += (i ? ", " : "") + Quote(table.columns[i].name);
  sql += " FROM " + Quote(table.name) + " WHERE " + Quote(column) + " IN (";
  for (size_t i = 0; i < values.size(); ++i)
    sql += (i ? ", " : "") + LiteralFor(convs[at], values[i]);
  sql += ")";
  if (mysql_real_query(db(), sql.data(), sql.size()) != 0)
    return Error("reading table '" + table.name + "' failed");
  MYSQL_RES* res = mysql_store_result(db_);
  if (!res) return Error("reading table '" + table.name + "' failed");
  while (MYSQL_ROW row = mysql_fetch_row(res)) rows.push_back(RowValues(res, row, convs));
  mysql_free_result(res);
  return rows;
}

MYSQL* MySqlSource::db(MySqlReader* by) {
  if (streaming_ && streaming_ != by) streaming_->Interrupt();
  return db_;
}

std::string MySqlSource::Where() const {
  return "MySQL " + o_.db.host + ":" + std::to_string(o_.db.port) + "/" + o_.db.database;
}

Status MySqlSource::Error(const std::string& what, StatusCode code) {
  std::string msg = Where() + ": " + what + ": " + mysql_error(db_);
  unsigned err = mysql_errno(db_);
  if (err == 1146) code = StatusCode::kNotFound;
  if (ConnectionError(err)) lost_ = true;
  return Status(code, msg);
}

Status MySqlSource::Reconnect(std::string* note) {
  std::lock_guard<std::recursive_mutex> turn(conn_mu_);
  streaming_ = nullptr;  // a failed reader freed its result (MySqlReader::Fail)
  if (db_) mysql_close(db_);
  db_ = nullptr;
  if (Status s = Connect(); !s.ok()) {
    lost_ = true;
    return s;
  }
  lost_ = false;
  if (!in_snapshot_) return Status::Ok();
  RETURN_IF_ERROR(Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
  *note = Where() +
          ": the snapshot the read was in was lost with its connection; the rest of the table "
          "is read in a new one (what changed meanwhile is read as it is now)";
  return Status::Ok();
}

Status MySqlSource::Exec(const std::string& sql) {
  std::lock_guard<std::recursive_mutex> turn(conn_mu_);
  if (mysql_real_query(db(), sql.data(), sql.size()) != 0) return Error("query failed");
  if (MYSQL_RES* r = mysql_store_result(db_)) mysql_free_result(r);
  return Status::Ok();
}

std::string MySqlSource::Literal(std::string_view s) {
  std::string out(s.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(db_, out.data() + 1, s.data(), s.size());
  out.resize(n + 1);
  return out + "'";
}

Result<std::vector<std::vector<std::string>>> MySqlSource::Query(const std::string& sql) {
  std::lock_guard<std::recursive_mutex> turn(conn_mu_);
  if (mysql_real_query(db(), sql.data(), sql.size()) != 0) return Error("query failed");
  MYSQL_RES* r = mysql_store_result(db_);
  if (!r) return Error("no result");
  std::vector<std::vector<std::string>> out;
  unsigned n = mysql_num_fields(r);
  while (MYSQL_ROW row = mysql_fetch_row(r)) {
    unsigned long* len = mysql_fetch_lengths(r);
    out.emplace_back();
    for (unsigned i = 0; i < n; ++i)
      out.back().emplace_back(row[i] ? std::string(row[i], len[i]) : "");
  }
  mysql_free_result(r);
  return out;
}

}  // namespace mysql_internal

Result<std::unique_ptr<Source>> OpenMySqlSource(const SqlSourceOptions& options) {
  auto src = std::make_unique<mysql_internal::MySqlSource>(options);
  RETURN_IF_ERROR(src->Connect());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace di
