// PostgreSQL source on libpq: full reads stream with COPY ... TO STDOUT (text format, one
// row in memory at a time); ordered reads (after a position, in (cursor, primary key) or key
// order) are one cursor in a REPEATABLE READ transaction, fetched a batch at a time.
// The session runs in UTC; naive `timestamp` values are read as wall time in `source_tz`.
// Not thread-safe: one per worker.
#pragma once

#include <memory>

#include "sources/mysql_source.h"  // SqlSourceOptions

namespace di {

Result<std::unique_ptr<Source>> OpenPostgresSource(const SqlSourceOptions& options);

// A libpq connection string for `s`, every value quoted (spaces, quotes and backslashes in
// passwords survive), with a 10 s connect timeout.
std::string PgConninfo(const SqlSettings& s);

}  // namespace di
