// MySQL / MariaDB source on MariaDB Connector/C: every read is one query streamed unbuffered
// (mysql_use_result, one InnoDB consistent read): full reads in primary-key order, ordered
// reads after a position in (cursor, primary key) or key order.
// Naive DATETIME values are read as wall time in `source_tz`; TIMESTAMP values are read in a
// UTC session. Not thread-safe: one per worker.
#pragma once

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

}  // namespace di
