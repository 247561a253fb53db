// Restore: a backup (manifest + parts) back into MySQL/MariaDB, PostgreSQL or MongoDB with
// every type intact. Each part is read once as a stream, through its sha256 and the
// decompressor, and loaded a batch at a time (memory: a batch and the codec window, never a
// part). A missing manifest or part (one listing checks them all first) writes nothing; a
// part that does not match its sha256 or does not decode fails the load before it commits,
// and the target undoes it (MongoDB appending to an existing collection, which cannot be
// undone, reads every part once to check it first). The table is created from the
// manifest's columns, source types and primary key when missing; an existing one must have
// the same columns. Loads use each engine's fast path — multi-row INSERTs in one transaction
// (MySQL), COPY FROM STDIN (PostgreSQL), insertMany (MongoDB). A new or replaced table
// appears whole or not at all: PostgreSQL loads in one transaction; MySQL and MongoDB load a
// staging table/collection and rename it into place.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/backup_read.h"
#include "sinks/object_store.h"
#include "sources/source.h"

namespace di {

enum class IfExists { kUnset, kFail, kReplace, kAppend };
Result<IfExists> ParseIfExists(const std::string& s);  // "" -> kUnset

struct RestoreOptions {
  Engine engine = Engine::kMySql;
  std::string table;         // as backed up (PostgreSQL: may be schema.table)
  std::string run_id;        // "" with latest: the newest complete backup
  std::string target_url;    // "" = the configured database of `engine`
  std::string target_table;  // "" = `table`
  IfExists if_exists = IfExists::kUnset;
  size_t batch_size = 1000;
  // The rows loaded so far and the backup's row count: once when the manifest is read
  // (0 rows), then after each batch written.
  std::function<void(int64_t rows, int64_t total)> on_progress;
};

struct RestoreResult {
  std::string run_id;
  std::string target;  // "postgresql://host:port/db table" (no password)
  int64_t rows = 0;
  size_t parts = 0;
  double seconds = 0;
  std::vector<std::string> warnings;  // e.g. a type missing in the target, restored as text
};

Result<RestoreResult> RunRestore(const Config& config, ObjectStore& store,
                                 const RestoreOptions& options,
                                 const std::function<void(const std::string&)>& log);

}  // namespace di
