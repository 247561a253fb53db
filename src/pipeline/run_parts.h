// The pieces the run modes (pipeline/run.h: backup, migrate, sync) share: the serialised
// log, the worker pool, progress lines, the report's entries and lines, the report itself,
// and the connections of a mapped table. Internal to pipeline/; nothing here is a contract.
// SerialLog is thread-safe; the rest are plain functions.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/run.h"
#include "pipeline/table_run.h"

namespace di::runs {

using Say = std::function<void(const std::string&)>;

// `log`, serialised across the worker threads.
class SerialLog {
 public:
  explicit SerialLog(const Say& log) : log_(log) {}
  void operator()(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    log_(line);
  }

 private:
  const Say& log_;
  std::mutex mu_;
};

// "postgresql.reservations: 120000 of ~1000000 rows, 45000 rows/s, ETA 20s"
std::string ProgressLine(const std::string& name, int64_t rows, int64_t estimate, double seconds);
// A table's progress, called with the rows done after each batch: its line of
// hooks.display (begun here), else throttled progress lines, "[mode] name: rows of
// ~estimate, rows/s, ETA", at most one per 2 s (none when !hooks.progress_lines); every
// call also goes to hooks.progress under `task`.
std::function<void(int64_t)> Throttled(const std::string& mode, const std::string& name,
                                       int64_t estimate, const Say& say, const RunHooks& hooks,
                                       const std::string& task);
// A table's end on hooks.display, when there is one: done, stopped (an Aborted status: a
// stop) or FAILED with the status's message.
void ShowEnd(const RunHooks& hooks, const std::string& name, int64_t rows, const Status& status);
// The same from a table's results (each optional): the most rows a target took and the
// first target's failure.
void ShowEnd(const RunHooks& hooks, const TableMapping& m, const std::optional<TableBackup>& backup,
             const std::optional<TableMigration>& migration,
             const std::optional<WarehouseLoad>& load);
// "<kind>:<engine>.<table>"
std::string TaskName(const char* kind, const TableMapping& m);
// How a table's read rides out a dropped source connection: MAX_RETRIES reconnects, the
// first after RETRY_DELAY, each line said as "[mode] <line>"; ended by `stop`.
ReconnectPolicy ReconnectFor(const RunSettings& run, const std::string& mode, const Say& say,
                             const std::atomic<bool>* stop);

// One table's backup (`--mode backup`), its lines said.
TableBackup BackupOne(const RunWorld& world, const TableMapping& ref, const std::string& run_id,
                      const Say& say, const RunHooks& hooks);

std::vector<const TableMapping*> MappedToDynamo(const std::vector<TableMapping>& mapping);

// Two connections to a mapped table's database (the streamed read and the lookups) and
// the table's description. While `shared` (TableSnapshot: the read's source serves the
// lookups in its snapshot), the lookups go to `main`.
struct MigrationSources {
  std::unique_ptr<Source> main, lookup;
  TableInfo info;
  bool shared = false;
  Source& lookups() { return shared ? *main : *lookup; }
};
Result<MigrationSources> OpenMigrationSources(SourceFactory& sources, const TableMapping& m);

// Whether a mapped table's DynamoDB items look rows up (embedded child rows, an enrichment):
// only then do its lookups need to see the read's snapshot.
bool LooksUp(const TableMapping& m);

// The snapshot of a table's read: pinned on `srcs.main` and, for a table whose items look
// rows up, joined by `srcs.lookup` (or served by `srcs.main` itself, srcs.shared, where the
// engine cannot share it: MariaDB), so an item's embedded children and enrichments are of the
// same snapshot as its row. Both are let go (the join left, the pin released) when it is
// destroyed, whichever way the table's run ends (done, failed, stopped). Borrows `srcs`,
// which outlives it; used on the table's thread (the lookup source is the DynamoDB sink's
// in between, the fan-out ordering the two). Not thread-safe.
class TableSnapshot {
 public:
  // Tries a join that can miss (JoinSnapshot false: a source joining by a place its own
  // snapshot must meet) this many times, each pinning the read again.
  static constexpr int kJoinTries = 50;
  TableSnapshot(MigrationSources& srcs, const TableMapping& m, const Say& say)
      : srcs_(srcs), m_(m), say_(say) {}
  ~TableSnapshot();
  TableSnapshot(const TableSnapshot&) = delete;
  TableSnapshot& operator=(const TableSnapshot&) = delete;
  // Pins the read's snapshot (none for a table without a primary key, read in one unordered
  // pass) and, when LooksUp, has the read's source serve the lookups in it or else joins the
  // lookups' source to it. The snapshot's place in the change log: empty when the server
  // gives none (said as a warning; the read and the lookups then see their own snapshots).
  // An error, naming the table, when the lookups cannot join it: the table fails before
  // anything is read. A join that misses kJoinTries times is no error: the lookups read
  // live, said as a warning with why.
  Result<LogPosition> Pin();
  // Lets both go now (the read is done); the destructor then has nothing left to do.
  void Release();

 private:
  MigrationSources& srcs_;
  const TableMapping& m_;
  const Say& say_;
  bool pinned_ = false, joined_ = false;
};

// A run that needs the state table and DynamoDB (migrate, sync) in a world without them:
// false, `out` FAILED with what to set.
bool NeedsAws(const RunWorld& world, const std::string& mode, RunOutcome& out);

// The status of sink `i` of a table read: its own error, else the read's (a stop named).
Status SinkStatus(const TableReadOutcome& out, size_t i);

// Runs `n` tasks on up to `workers` threads.
void RunPool(size_t n, int workers, const std::function<void(size_t)>& task);
int64_t Micros(std::chrono::system_clock::time_point tp);

// The report's entry and the log's line of each kind of table result.
nlohmann::json MigrationEntry(const TableMigration& r);
std::string MigrationLine(const TableMigration& r);
nlohmann::json BackupEntry(const TableBackup& r);
nlohmann::json LoadEntry(const WarehouseLoad& r);
std::string LoadLine(const WarehouseLoad& r);

// The report's entries of every table result in `out` (backups, migrations, loads) and the
// run's status: SUCCESS when every one succeeded cleanly (no dead-lettered or failed items)
// and the run had no problems, FAILED when none succeeded, else PARTIAL; STOPPED when
// `stopped`. The one place a run's status is decided.
RunState RunStatus(const RunOutcome& out, bool stopped, nlohmann::json* entries);

// Writes the run's report to "<analytics>/migration_reports/<run-id>.json" and keeps it in
// `out` (a failure to store it is said, and out.report_key left empty).
void FinishReport(const RunWorld& world, RunOutcome& out, const std::string& mode,
                  std::chrono::system_clock::time_point started, nlohmann::json tables,
                  const Say& say);

// Sync reads a table's changed rows in one pass sorted by (change column, key): without an
// index that starts with the change column, each run sorts the whole table. Says so.
void WarnWithoutIndex(Source& source, const TableInfo& info, const TableMapping& m, const Say& say);

}  // namespace di::runs
