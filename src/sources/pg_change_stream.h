// PostgreSQL's ChangeStream (sources/change_stream.h): a permanent pgoutput slot read through
// logical replication (sources/pg_replication.h), its messages decoded (sources/pgoutput.h)
// into changes whose cells are read exactly as the snapshot reads them (the PostgreSQL
// source's conversions, so a streamed row and a migrated row are the same Values). A table's
// columns are described again whenever the server sends its relation anew (after ADD or DROP
// COLUMN), so no row is lost to a schema change.
//
// Owns its two connections (the walsender and a plain one for descriptions). Not
// thread-safe. Errors name the server and, for a slot that is missing or in use, the fix.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/time_util.h"
#include "sources/change_stream.h"

namespace di {

struct PgStreamOptions {
  SqlSettings db;
  std::shared_ptr<const TimeZone> source_tz = TimeZone::Utc();
  std::string slot;         // made by `--mode setup --with-stream`
  std::string publication;  // likewise
  // The tables whose changes are given ("users"; "schema.table" outside public); changes
  // of others are passed over.
  std::vector<std::string> tables;
  // Per table: the primary key the mapping gives it (TableMapping::primary_key), which
  // replaces the one the server describes; absent: the server's.
  std::map<std::string, std::vector<std::string>> primary_key_of;
  // Per table: its snapshot's place (a migrate's): the changes of transactions that
  // committed before it are in the snapshot already, and are passed over.
  std::map<std::string, std::string> snapshot_of;
  // Where to start: the earliest place any table needs (empty: the slot's confirmed one). A
  // place before the slot's confirmed position starts at the slot's.
  std::string start;
};

struct PgSlotStatus {
  std::string confirmed;       // where a stream opened now starts
  int64_t retained_bytes = 0;  // the WAL the server keeps for the slot (current end - restart)
};
// The slot's status, or NotFound naming `--mode setup --with-stream` when there is no such
// slot.
Result<PgSlotStatus> PgSlot(const SqlSettings& db, const std::string& slot);

// A place in the server's WAL after every transaction committed so far: a logical message
// ("data-ingestion", "catch-up") written now, outside any transaction, which no publication
// sends. A stream whose confirmed place reaches it has applied all of them.
Result<std::string> PgMarkEnd(const SqlSettings& db);

Result<std::unique_ptr<ChangeStream>> OpenPgChangeStream(const PgStreamOptions& options);

}  // namespace di
