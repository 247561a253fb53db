// Reading a table's S3 change log back (docs/formats.md, Change logs; written by the stream's
// ChangeLogSink): its objects in order, each change once. A stream that restarted from its
// last confirmed place may have written some changes twice, in objects cut elsewhere; read in
// the order of their names (their first change's place), a change at or before the last one
// given is passed over, so every change comes once, in log order.
//
// What verify (and point-in-time restore) replays onto a backup. Plain functions over an
// ObjectStore; thread-safe as the store is. A change-log object that cannot be read or decoded
// is an error naming its key.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/table.h"
#include "sinks/object_store.h"

namespace di {

// The place a change-log object's name sorts by, for a log position: PostgreSQL's LSN as
// 16 hex digits, a change's sequence as 8 ("00000000016B3748.00000003"); "" when it is not
// one of this engine's positions.
std::string ChangeLogPlaceOf(Engine engine, const std::string& position, uint32_t sequence);
// The same for a PostgreSQL LSN already parsed (StreamChange::order): no parse, no printf.
std::string PgChangeLogPlace(uint64_t lsn, uint32_t sequence);

// One change as the log holds it, parsed: "op", "position", "sequence", "commit_time",
// "key" (not a "truncate"'s), and "row", "unchanged", "old_key" where the change has them.
struct LoggedChange {
  std::string place;  // ChangeLogPlaceOf its position and sequence
  nlohmann::json doc;
  std::string row_text;  // "row" as the line has it: the record, byte for byte ("" when none)
};

// The keys of `table`'s change-log objects that may hold changes at or after `from`, in the
// order they are read.
Result<std::vector<std::string>> ChangeLogObjects(ObjectStore& store,
                                                  const std::string& backup_folder,
                                                  const TableInfo& table, const std::string& from);

// Hands `table`'s changes at or after `from` (a place; "" for all) to `change`, in log
// order, each once; an error of `change` stops the read and is returned. `objects` (may be
// null) receives how many objects were read.
Status ReadChangeLog(ObjectStore& store, const std::string& backup_folder, const TableInfo& table,
                     const std::string& from,
                     const std::function<Status(const LoggedChange&)>& change,
                     int64_t* objects = nullptr);

}  // namespace di
