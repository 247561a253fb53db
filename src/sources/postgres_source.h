// PostgreSQL source on libpq: full reads stream with COPY ... TO STDOUT (text format, one
// row in memory at a time); ordered reads (after a position, in (cursor, primary key) or key
// order) are one cursor in a REPEATABLE READ transaction, fetched a batch at a time.
// The session runs in UTC; naive `timestamp` values are read as wall time in `source_tz`.
// Not thread-safe: one per worker.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sources/mysql_source.h"  // SqlSourceOptions

namespace di {

Result<std::unique_ptr<Source>> OpenPostgresSource(const SqlSourceOptions& options);

// A libpq connection string for `s`, every value quoted (spaces, quotes and backslashes in
// passwords survive), with its TLS settings (sslmode, sslrootcert) and a 10 s connect timeout.
std::string PgConninfo(const SqlSettings& s);

// PQconnectdbParams for `s` (host, port, user, password, dbname, sslmode, sslrootcert) plus
// `extra` keyword/value pairs (connect_timeout, application_name, replication, ...): every
// connection to a PostgreSQL source, replication ones too, goes through it, so all use the
// same TLS settings. The caller owns the result (PQfinish) and checks PQstatus.
PGconn* PgConnect(const SqlSettings& s,
                  const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace di
