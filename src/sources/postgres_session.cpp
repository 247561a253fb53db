// The PostgreSQL source's connection (sources/postgres_internal.h): connecting in a UTC,
// ISO-dated session, running queries with their errors named, quoting identifiers, the
// REPEATABLE READ transaction that ordered reads share, and libpq connection strings.
#include <libpq-fe.h>

#include "core/lazy_lib.h"
#include "core/strings.h"
#include "sources/postgres_internal.h"

namespace di {
namespace postgres_internal {

std::string QuoteIdent(std::string_view ident) {
  return QuoteIdentifier(ident, '"');
}

// "schema.table" or "table" (public) -> quoted identifier.
std::string QuoteTable(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return QuoteIdent(name);
  return QuoteIdent(name.substr(0, dot)) + "." + QuoteIdent(name.substr(dot + 1));
}

PgSource::~PgSource() {
  ReleaseSnapshot();
  if (conn_) PQfinish(conn_);
}

PGconn* PgSource::Open(bool replication) {
  std::vector<std::pair<std::string, std::string>> extra = {
      {"connect_timeout", std::to_string(o_.connect_timeout_seconds)},
      {"application_name", "data-ingestion"},
      {"keepalives", "1"}};
  if (replication) extra.emplace_back("replication", "database");
  return PgConnect(o_.db, extra);
}

Status PgSource::Connect() {
  RETURN_IF_ERROR(kPqLibrary.Load());
  conn_ = Open(false);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn_);
    StatusCode code = err.find("authentication failed") != std::string::npos
                          ? StatusCode::kUnauthenticated
                      : err.find("does not exist") != std::string::npos ? StatusCode::kNotFound
                                                                        : StatusCode::kUnavailable;
    return Status(code, Where() + ": cannot connect: " + std::string(Trim(err)));
  }
  return Exec(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
      "SET bytea_output = 'hex'; SET lc_monetary = 'C'; SET statement_timeout = 0; "
      // An ordered read holds a transaction open while its sinks work (backpressure): a
      // server's idle-in-transaction limit must not end it (pg_dump does the same).
      "SET idle_in_transaction_session_timeout = 0");
}

PGconn* PgSource::conn(PgReader* by) {
  if (ahead_ && ahead_ != by) ahead_->DropAhead();
  return conn_;
}

Status PgSource::BeginRead() {
  if (reads_open_ == 0) {
    RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    if (!snapshot_.empty()) {
      Status s = Exec("SET TRANSACTION SNAPSHOT '" + snapshot_ + "'");
      if (!s.ok()) {
        Exec("ROLLBACK").ok();
        return s;
      }
    }
  }
  ++reads_open_;
  return Status::Ok();
}

void PgSource::EndRead() {
  if (reads_open_ > 0 && --reads_open_ == 0) Exec("COMMIT").ok();  // an aborted one rolls back
}

std::string PgSource::Where() const {
  return "PostgreSQL " + o_.db.host + ":" + std::to_string(o_.db.port) + "/" + o_.db.database;
}

Status PgSource::Error(const std::string& what) {
  return Unavailable(Where() + ": " + what + ": " + std::string(Trim(PQerrorMessage(conn_))));
}

Status PgSource::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn(), sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok ? Status::Ok() : Error("query failed");
}

Result<std::vector<std::vector<std::string>>> PgSource::Query(
    const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> p;
  for (const auto& s : params) p.push_back(s.c_str());
  PGresult* r = PQexecParams(conn(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                             nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    Status s =
        Unavailable(Where() + ": query failed: " + std::string(Trim(PQresultErrorMessage(r))));
    PQclear(r);
    return s;
  }
  std::vector<std::vector<std::string>> out;
  for (int i = 0; i < PQntuples(r); ++i) {
    out.emplace_back();
    for (int j = 0; j < PQnfields(r); ++j)
      out.back().emplace_back(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j)));
  }
  PQclear(r);
  return out;
}

}  // namespace postgres_internal

std::string PgConninfo(const SqlSettings& s) {
  auto kv = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out = "host=" + kv(s.host) + " port=" + std::to_string(s.port) +
                    " user=" + kv(s.user) + " password=" + kv(s.password) +
                    " dbname=" + kv(s.database) + " connect_timeout=10";
  if (!s.ssl_mode.empty()) out += " sslmode=" + kv(s.ssl_mode);
  if (!s.ssl_ca.empty()) out += " sslrootcert=" + kv(s.ssl_ca);
  return out;
}

PGconn* PgConnect(const SqlSettings& s,
                  const std::vector<std::pair<std::string, std::string>>& extra) {
  const std::string port = std::to_string(s.port);
  // libpq ignores a key whose value is empty (no sslrootcert: its default file).
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"host", s.host},         {"port", port},         {"user", s.user},
      {"password", s.password}, {"dbname", s.database}, {"sslmode", s.ssl_mode},
      {"sslrootcert", s.ssl_ca}};
  pairs.insert(pairs.end(), extra.begin(), extra.end());
  std::vector<const char*> keys, vals;
  for (const auto& [k, v] : pairs) {
    keys.push_back(k.c_str());
    vals.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  vals.push_back(nullptr);
  return PQconnectdbParams(keys.data(), vals.data(), 0);
}

}  // namespace di
