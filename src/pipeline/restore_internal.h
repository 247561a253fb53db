// What the pieces of restore (pipeline/restore.h) share: the backup's manifest as read, and
// reading a part into a database sink (sinks/database_sink.h). Internal to restore.cpp and
// restore_backup.cpp; nothing here is a contract.
//   restore.cpp           the orchestration: options, --target-url, checks, the load
//   restore_backup.cpp    the backup read (pipeline/backup_read.h) as restore reports it
// The engines' writers are the database sinks (sinks/postgres_sink.cpp, mysql_sink.cpp,
// mongo_sink.cpp). Nothing here is thread-safe: a restore is one thread with one sink.
// Failures are Status values (an error names the target or the object); none throws.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/status.h"
#include "pipeline/backup_read.h"
#include "pipeline/restore.h"
#include "sinks/database_sink.h"
#include "sinks/object_store.h"

namespace di::restore_internal {

using OJ = nlohmann::ordered_json;
using Say = std::function<void(const std::string&)>;

using Manifest = BackupManifest;

// ---------------------------------------------------------------------------------------
// The backup

// The manifest of `run_id`, or of the newest complete backup.
Result<Manifest> FindManifest(ObjectStore& store, const Config& config, const RestoreOptions& o);

// One part read once: its bytes through SHA-256 and the decompressor, its records to `sink`
// in batches of o.batch_size (null: only verified), numbered on from `*sequence`, each
// batch written counted in result->rows and told to o.on_progress. A part that does not
// decode is still read to its end, so that a corrupted one is reported as such; the sha256
// is compared when its stream ends.
Status ReadPart(ObjectStore& store, const Manifest& m, const OJ& part, const RestoreOptions& o,
                DatabaseSink* sink, uint64_t* sequence, RestoreResult* result);

}  // namespace di::restore_internal
