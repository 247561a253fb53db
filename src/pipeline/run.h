// Running a job over many tables: choosing them, running them on WORKERS threads with progress, and
// the run report (docs/formats.md, Migration reports). Shared by backup and the later pipelines.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "core/progress_display.h"
#include "pipeline/analytics.h"
#include "pipeline/backup.h"
#include "pipeline/migrate.h"
#include "pipeline/warehouse_load.h"
#include "pipeline/world.h"
#include "sinks/object_store.h"
#include "sources/source.h"

namespace di {

// The tables a backup reads. With MAPPING_FILE (`mapping` given): its tables with backup
// on. Without: every table of the three configured databases. `names` (empty: all) picks
// some, each "table" or "engine.table"; unknown or ambiguous names are errors that list
// where they looked. `problems` receives engines that could not be listed (the run goes
// on without them).
Result<std::vector<TableMapping>> SelectTables(SourceFactory& sources,
                                               const std::vector<TableMapping>* mapping,
                                               const std::vector<std::string>& names,
                                               std::vector<std::string>* problems);

// The tables of `mapping` named by `names` (all when empty; "table" or "engine.table");
// with `dynamodb_only`, only those mapped to DynamoDB.
Result<std::vector<TableMapping>> PickMapped(const std::vector<TableMapping>& mapping,
                                             const std::vector<std::string>& names,
                                             bool dynamodb_only);

// What a caller (the API's job runner, the CLI's signal handler) sees and steers while a run
// goes on. All optional.
struct RunHooks {
  // Set: every table stops at its next batch boundary (after its checkpoint); the run ends
  // STOPPED, and a stopped migrate is resumed by the next one.
  const std::atomic<bool>* stop = nullptr;
  // After each batch: "<kind>:<engine>.<table>" (kind backup, dynamodb, warehouse) and the
  // rows done so far.
  std::function<void(const std::string& task, int64_t rows)> progress;
  // After each DynamoDB batch write: the table, the items and the seconds it took.
  std::function<void(const std::string& table, size_t items, double seconds)> batch;
  // The CLI on a terminal (PROGRESS): each table's line of this live display, begun, moved
  // and ended by the run, instead of the throttled progress lines in the log.
  ProgressDisplay* display = nullptr;
  // Without a display: the throttled progress lines in the log, or none (PROGRESS=off).
  bool progress_lines = true;
};

// How a run ended: every table succeeded cleanly; some did; none did; stopped by its caller
// (docs/formats.md, Migration reports: migration_status).
enum class RunState { kSuccess, kPartial, kFailed, kStopped };
std::string RunStateName(RunState state);  // "SUCCESS" | "PARTIAL" | "FAILED" | "STOPPED"

struct RunOutcome {
  std::string run_id;
  RunState status = RunState::kFailed;
  std::vector<TableBackup> tables;
  std::vector<TableMigration> migrations;
  std::vector<WarehouseLoad> loads;      // with ANALYTICS_DATABASE_URL
  std::vector<AnalyticsExport> exports;  // migrate with the cinema mapping
  bool resumed = false;                  // migrate: carried on a run that had stopped
  std::vector<std::string> problems;
  std::string report_key;
  nlohmann::json report;
};

// Backs up `tables` with config.run.workers threads; writes the report; prints progress
// and a line per table to `log` (stderr in the CLI).
RunOutcome RunBackup(const RunWorld& world, const std::vector<TableMapping>& tables,
                     std::vector<std::string> problems,
                     const std::function<void(const std::string&)>& log,
                     const RunHooks& hooks = RunHooks());

// Migration of every mapped table to DynamoDB plus a backup of every table (and, with
// ANALYTICS_DATABASE_URL, a load of every table into the warehouse), one read per table
// feeding all of its targets (pipeline/table_run.h), a table per config.run.workers
// thread, with one report. A migrate that stopped before it finished (killed, crashed) is
// resumed by the next one: same run id, finished tables kept, each target of the others
// from its own checkpoint (DynamoDB: per batch; a backup: per stored part; the warehouse's
// load, one transaction: from the start).
RunOutcome RunMigrate(const RunWorld& world, const std::vector<TableMapping>& mapping,
                      const std::function<void(const std::string&)>& log,
                      const RunHooks& hooks = RunHooks());

// Incremental sync of the mapped tables into DynamoDB (and, with ANALYTICS_DATABASE_URL, of
// every mapped table into the warehouse) from the watermarks in the state table (or, with
// `since_micros`, from that UTC time); each batch's watermark is stored once its rows are
// written. A run id per second (sync writes no backup).
RunOutcome RunSync(const RunWorld& world, const std::vector<TableMapping>& mapping,
                   std::optional<int64_t> since_micros,
                   const std::function<void(const std::string&)>& log,
                   const RunHooks& hooks = RunHooks());

// A run id of the world's clock not used yet by any of `tables` in its store ("…Z", then
// "…Z-2", "…Z-3").
std::string FreshRunId(const RunWorld& world, const std::vector<TableMapping>& tables);

}  // namespace di
