// MySQL / MariaDB source on MariaDB Connector/C: every read is one query streamed unbuffered
// (mysql_use_result, one InnoDB consistent read): full reads in primary-key order, ordered
// reads after a position in (cursor, primary key) or key order.
// Naive DATETIME values are read as wall time in `source_tz`; TIMESTAMP values are read in a
// UTC session. Not thread-safe: one per worker.
#pragma once

#include <mysql.h>

#include <memory>

#include "config/config.h"
#include "core/time_util.h"
#include "sources/source.h"

namespace di {

struct SqlSourceOptions {
  SqlSettings db;
  std::shared_ptr<const TimeZone> source_tz = TimeZone::Utc();
  int connect_timeout_seconds = 10;
  int read_timeout_seconds = 600;
};

// Connects (errors name the engine, host:port and database).
Result<std::unique_ptr<Source>> OpenMySqlSource(const SqlSourceOptions& options);

// mysql_real_connect of `db` (from mysql_init, other options already set) to `s` over TCP
// with `s`'s TLS mode: DISABLED plain; PREFERRED TLS when the server offers it, else plain;
// REQUIRED TLS without a certificate check; VERIFY_CA TLS with the chain checked against
// ssl_ca; VERIFY_IDENTITY that and the host name against the certificate. Every MySQL
// connection goes through it (sources, restore sinks, analytics). The error is Connector/C's
// message (plus what the mode asked for when TLS was the cause), code kUnauthenticated for a
// refused login, else kUnavailable; the caller prefixes where.
Status MySqlConnect(MYSQL* db, const SqlSettings& s);

}  // namespace di
