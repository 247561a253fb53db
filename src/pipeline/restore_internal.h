// What the pieces of restore (pipeline/restore.h) share: the backup's manifest as read, the
// Target each engine's writer implements, and reading a part into a target. Internal to
// restore_*.cpp and restore.cpp; nothing here is a contract.
//   restore.cpp           the orchestration: options, --target-url, checks, the load
//   restore_backup.cpp    the backup read (pipeline/backup_read.h) as restore reports it
//   restore_values.cpp    backed-up values as a target's text (instants, bytes)
//   restore_mysql.cpp     MySqlTarget      restore_postgres.cpp  PgTarget
//   restore_mongo.cpp     MongoTarget
// Nothing here is thread-safe: a restore is one thread with one target. Failures are Status
// values (an error names the target or the object); none throws.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/status.h"
#include "core/time_util.h"
#include "pipeline/backup_read.h"
#include "pipeline/restore.h"
#include "sinks/object_store.h"

namespace di::restore_internal {

using OJ = nlohmann::ordered_json;
using Say = std::function<void(const std::string&)>;

using Column = BackupColumn;
using Manifest = BackupManifest;

// "2024-01-02T03:04:05.000006Z" (an instant) -> wall time in `tz`, "2024-01-02 03:04:05.000006";
// other text is returned as it is (e.g. "infinity", a year past 9999).
std::string WallTime(const std::string& iso, const TimeZone& tz);

std::string HexOfBase64(const std::string& b64);

// ---------------------------------------------------------------------------------------
// Targets

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string Describe() const = 0;
  // The table's columns in order; nullopt when it does not exist (MongoDB: empty list).
  virtual Result<std::optional<std::vector<std::string>>> Columns() = 0;
  virtual Result<bool> HasRows() = 0;
  // create: make the table from the manifest; replace: the existing one is replaced.
  virtual Status Begin(bool create, bool replace) = 0;
  virtual Status Write(const std::vector<std::string_view>& lines) = 0;
  virtual Status Commit() = 0;
  // After a failed load: nothing of it stays (the transaction rolled back, the staging table
  // or collection dropped). Best effort: errors are ignored.
  virtual void Abort() = 0;
  // Whether a load that fails midway (before Commit) leaves the target as it was; when not,
  // every part is verified before the first write.
  virtual bool AllOrNothing(bool /*create*/, bool /*replace*/) const { return true; }
  std::vector<std::string> warnings;
};

// Each engine's target, connected (a connection error names it). The SQL targets keep a
// reference to `m`, which must outlive them; each owns its connection and closes it.
Result<std::unique_ptr<Target>> ConnectMySqlTarget(const SqlSettings& s, const std::string& table,
                                                   const Manifest& m,
                                                   std::shared_ptr<const TimeZone> tz);
Result<std::unique_ptr<Target>> ConnectPgTarget(const SqlSettings& s, const std::string& table,
                                                const Manifest& m,
                                                std::shared_ptr<const TimeZone> tz);
Result<std::unique_ptr<Target>> ConnectMongoTarget(const MongoSettings& s,
                                                   const std::string& table);

// ---------------------------------------------------------------------------------------
// The backup

// The manifest of `run_id`, or of the newest complete backup.
Result<Manifest> FindManifest(ObjectStore& store, const Config& config, const RestoreOptions& o);

// One part read once: its bytes through SHA-256 and the decompressor, its lines to `target`
// (null: only verified). A part that does not decode is still read to its end, so that a
// corrupted one is reported as such; the sha256 is compared when its stream ends.
Status ReadPart(ObjectStore& store, const Manifest& m, const OJ& part, size_t batch_size,
                Target* target, RestoreResult* result);

}  // namespace di::restore_internal
