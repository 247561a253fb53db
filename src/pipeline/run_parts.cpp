#include "pipeline/run_parts.h"

#include <chrono>
#include <thread>

#include "core/json_encode.h"
#include "sinks/compressor.h"
#include "sources/factory.h"

namespace di::runs {

// "postgresql.reservations: 120000 of ~1000000 rows, 45000 rows/s, ETA 20s"
std::string ProgressLine(const std::string& name, int64_t rows, int64_t estimate, double seconds) {
  int64_t rate = seconds > 0 ? static_cast<int64_t>(static_cast<double>(rows) / seconds) : 0;
  std::string line = name + ": " + std::to_string(rows) + " rows";
  if (estimate > rows)
    line = name + ": " + std::to_string(rows) + " of ~" + std::to_string(estimate) + " rows";
  line += ", " + std::to_string(rate) + " rows/s";
  if (estimate > rows && rate > 0)
    line += ", ETA " + std::to_string((estimate - rows) / rate) + "s";
  return line;
}

TableBackup BackupOne(const RunWorld& world, const TableMapping& ref, const std::string& run_id,
                      const Say& say, const RunHooks& hooks) {
  const Config& config = world.config;
  ObjectStore& store = world.store;
  TableBackup r;
  r.engine = ref.engine;
  r.table = ref.table;
  r.run_id = run_id;
  auto src = world.sources.Open(ref.engine, ref.database);
  if (!src.ok()) {
    r.status = src.status();
    say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
    return r;
  }
  auto info = DescribeMapped(**src, ref);
  if (!info.ok()) {
    r.status = info.status();
    say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
    return r;
  }
  if (info->primary_key.empty())
    say("[backup] " + ref.Name() +
        ": no primary key; backed up in full (incremental sync and DynamoDB need one)");
  BackupOptions o;
  o.codec = config.s3.compression;
  o.folder = config.s3.backup_folder;
  o.batch_size = static_cast<size_t>(config.run.batch_size);
  o.stop = hooks.stop;
  o.on_progress = Throttled("backup", ref.Name(), (*src)->EstimateRows(*info), say, hooks,
                            TaskName("backup", ref));
  o.reconnect = ReconnectFor(config.run, "backup", say, hooks.stop);
  r = BackupTable(**src, *info, store, o, run_id);
  if (r.status.ok())
    say("[backup] " + ref.Name() + ": " + std::to_string(r.rows) + " rows, " +
        std::to_string(r.parts) + (r.parts == 1 ? " part, " : " parts, ") +
        std::to_string(r.bytes) + " bytes in " + std::to_string(r.seconds).substr(0, 5) + "s -> " +
        store.Describe(r.manifest_key));
  else
    say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
  return r;
}
std::vector<const TableMapping*> MappedToDynamo(const std::vector<TableMapping>& mapping) {
  std::vector<const TableMapping*> out;
  for (const auto& m : mapping)
    if (m.dynamodb) out.push_back(&m);
  return out;
}

Result<MigrationSources> OpenMigrationSources(SourceFactory& sources, const TableMapping& m) {
  MigrationSources s;
  ASSIGN_OR_RETURN(s.main, sources.Open(m.engine, m.database));
  ASSIGN_OR_RETURN(s.lookup, sources.Open(m.engine, m.database));
  ASSIGN_OR_RETURN(s.info, DescribeMapped(*s.main, m));
  return s;
}

bool LooksUp(const TableMapping& m) {
  return m.dynamodb && (!m.dynamodb->embed.empty() || !m.dynamodb->enrichment.empty());
}

TableSnapshot::~TableSnapshot() {
  Release();
}

void TableSnapshot::Release() {
  if (joined_) srcs_.lookup->LeaveSnapshot();
  if (pinned_) srcs_.main->ReleaseSnapshot();
  joined_ = pinned_ = srcs_.shared = false;
}

Result<LogPosition> TableSnapshot::Pin() {
  if (srcs_.info.primary_key.empty()) return LogPosition();
  const std::string lookups = "its lookups (embedded rows, enrichments)";
  std::string missed;
  LogPosition position;
  for (int attempt = 0; attempt < kJoinTries; ++attempt) {
    pinned_ = true;
    auto pinned = srcs_.main->PinSnapshot();  // a new one on each try
    if (!pinned.ok()) {
      say_("[migrate] " + m_.Name() + ": WARNING: no snapshot position recorded" +
           (LooksUp(m_) ? " and " + lookups + " read the live database" : "") + ": " +
           pinned.status().message());
      return LogPosition();
    }
    position = *pinned;
    if (!LooksUp(m_)) return position;
    if (srcs_.main->ServeLookupsInSnapshot()) {  // MariaDB: one connection, one snapshot
      srcs_.shared = true;
      return position;
    }
    auto token = srcs_.main->SharedSnapshot();
    if (token.ok() && token->empty()) return position;  // an engine without one: live lookups
    Result<bool> joined =
        token.ok() ? srcs_.lookup->JoinSnapshot(*token, &missed) : Result<bool>(token.status());
    if (!joined.ok())
      return Status(joined.status().code(),
                    "the DynamoDB lookups (embedded rows, enrichments) cannot join the snapshot "
                    "of the table's read: " +
                        joined.status().message());
    if (*joined) {
      joined_ = true;
      return position;
    }
  }
  say_("[migrate] " + m_.Name() + ": WARNING: " + lookups +
       " read the live database, not the read's snapshot: " + std::to_string(kJoinTries) +
       " tries to open the same snapshot for them missed; the last: " + missed);
  return position;  // the last try's, still pinned for the read
}

Status SinkStatus(const TableReadOutcome& out, size_t i) {
  const SinkOutcome& so = out.fan.sinks[i];
  if (!so.status.ok()) return so.status;
  if (!out.fan.read_status.ok()) return out.fan.read_status;
  if (out.fan.stopped)
    return Aborted("stopped after " + std::to_string(out.fan.rows) + " rows (checkpointed)");
  return Status::Ok();
}

bool NeedsAws(const RunWorld& world, const std::string& mode, RunOutcome& out) {
  if (world.state && world.dynamodb) return true;
  out.status = RunState::kFailed;
  out.problems.push_back(mode +
                         " needs DynamoDB (its state table and its targets): set "
                         "AWS_REGION and credentials, or AWS_ENDPOINT_URL");
  return false;
}

// Runs `n` tasks on up to `workers` threads.
void RunPool(size_t n, int workers, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  int threads = std::max(1, std::min<int>(workers, static_cast<int>(n)));
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      for (size_t k; (k = next++) < n;) task(k);
    });
  for (auto& t : pool) t.join();
}

int64_t Micros(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

nlohmann::json MigrationEntry(const TableMigration& r) {
  return {{"engine", EngineName(r.engine)},
          {"table", r.table},
          {"kind", "dynamodb"},
          {"target", r.target},
          {"status", !r.status.ok()                  ? "FAILED"
                     : (r.dead_lettered || r.failed) ? "PARTIAL"
                                                     : "SUCCESS"},
          {"rows", r.rows},
          {"items_written", r.written},
          {"dead_lettered", r.dead_lettered},
          {"failed_items", r.failed},
          {"warnings", r.warnings},
          {"duration_seconds", r.seconds},
          {"dead_letter_object", r.dead_letter_key},
          {"deleted", r.deleted ? nlohmann::json(*r.deleted) : nlohmann::json(nullptr)},
          {"error", !r.status.ok() ? nlohmann::json(r.status.message())
                    : r.failed     ? nlohmann::json(r.last_batch_error)
                                   : nlohmann::json(nullptr)}};
}

std::string MigrationLine(const TableMigration& r) {
  std::string name = EngineName(r.engine) + "." + r.table + " -> " + r.target + ": ";
  if (!r.status.ok()) return name + "FAILED: " + r.status.message();
  return name + std::to_string(r.written) + " items written" +
         (r.dead_lettered ? ", " + std::to_string(r.dead_lettered) + " dead-lettered" : "") +
         (r.failed ? ", " + std::to_string(r.failed) + " failed (" + r.last_batch_error + ")"
                   : "") +
         (r.deleted ? ", " + std::to_string(*r.deleted) + " deleted (gone from the source)" : "");
}

nlohmann::json BackupEntry(const TableBackup& r) {
  return {{"engine", EngineName(r.engine)},
          {"table", r.table},
          {"kind", "backup"},
          {"status", r.status.ok() ? "SUCCESS" : "FAILED"},
          {"rows", r.rows},
          {"bytes", r.bytes},
          {"parts", r.parts},
          {"duration_seconds", r.seconds},
          {"error", r.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.status.message())},
          {"manifest", r.manifest_key}};
}

RunState RunStatus(const RunOutcome& out, bool stopped, nlohmann::json* entries) {
  *entries = nlohmann::json::array();
  size_t ok = 0;
  bool clean = true;
  for (const auto& r : out.tables) {
    ok += r.status.ok();
    entries->push_back(BackupEntry(r));
  }
  for (const auto& r : out.migrations) {
    ok += r.status.ok();
    if (r.dead_lettered || r.failed) clean = false;
    entries->push_back(MigrationEntry(r));
  }
  for (const auto& r : out.loads) {
    ok += r.status.ok();
    entries->push_back(LoadEntry(r));
  }
  const size_t total = out.tables.size() + out.migrations.size() + out.loads.size();
  if (stopped) return RunState::kStopped;
  if (ok == total && clean && out.problems.empty()) return RunState::kSuccess;
  return ok == 0 ? RunState::kFailed : RunState::kPartial;
}

void FinishReport(const RunWorld& world, RunOutcome& out, const std::string& mode,
                  std::chrono::system_clock::time_point started, nlohmann::json tables,
                  const Say& say) {
  const Config& config = world.config;
  ObjectStore& store = world.store;
  nlohmann::json counts = nlohmann::json::object();
  int64_t total = 0;
  for (const auto& r : out.tables)
    if (r.status.ok()) {
      counts[EngineName(r.engine)][r.table] = r.rows;
      total += r.rows;
    }
  if (out.tables.empty())  // sync: the rows read and upserted
    for (const auto& r : out.migrations)
      if (r.status.ok()) {
        counts[EngineName(r.engine)][r.table] = r.rows;
        total += r.rows;
      }
  out.report = {{"run_id", out.run_id},
                {"mode", mode},
                {"migration_timestamp", FormatTimestamp(Micros(started))},
                {"finished_at", FormatTimestamp(Micros(world.clock.Now()))},
                {"record_counts", counts},
                {"total_records_migrated", total},
                {"migration_status", RunStateName(out.status)},
                {"codec", CodecName(config.s3.compression)},
                {"tables", tables},
                {"problems", out.problems}};
  if (!out.exports.empty()) {
    nlohmann::json exports = nlohmann::json::array();
    for (const auto& e : out.exports)
      exports.push_back({{"dataset", e.dataset},
                         {"key", e.key},
                         {"rows", e.rows},
                         {"status", e.status.ok() ? "SUCCESS" : "FAILED"}});
    out.report["analytics_exports"] = exports;
  }
  out.report_key = config.s3.analytics_folder + "/migration_reports/" + out.run_id + ".json";
  Status s = store.Put(out.report_key, out.report.dump(2) + "\n", "application/json");
  if (!s.ok()) {
    say("[" + mode + "] could not write the report " + store.Describe(out.report_key) + ": " +
        s.message());
    out.report_key.clear();
  }
}
std::string TaskName(const char* kind, const TableMapping& m) {
  return std::string(kind) + ":" + m.Name();
}

ReconnectPolicy ReconnectFor(const RunSettings& run, const std::string& mode, const Say& say,
                             const std::atomic<bool>* stop) {
  ReconnectPolicy p;
  p.max_retries = run.max_retries;
  p.delay = run.retry_delay;
  p.stop = stop;
  p.say = [say, mode](const std::string& line) { say("[" + mode + "] " + line); };
  return p;
}

// Throttled progress lines: "[mode] name: rows of ~estimate, rows/s, ETA".
std::function<void(int64_t)> Throttled(const std::string& mode, const std::string& name,
                                       int64_t estimate, const Say& say, const RunHooks& hooks,
                                       const std::string& task) {
  auto t0 = std::chrono::steady_clock::now();
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(t0);
  auto progress = hooks.progress;
  ProgressDisplay* display = hooks.display;
  if (display) display->Begin(name, estimate);
  const bool lines = hooks.progress_lines;
  return [=](int64_t rows) {
    if (progress) progress(task, rows);
    if (display) return display->Update(name, rows);
    if (!lines) return;
    auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::seconds(2)) return;
    *last = now;
    say("[" + mode + "] " +
        ProgressLine(name, rows, estimate, std::chrono::duration<double>(now - t0).count()));
  };
}

void ShowEnd(const RunHooks& hooks, const std::string& name, int64_t rows, const Status& status) {
  if (!hooks.display) return;
  const TableEnd end = status.ok()                             ? TableEnd::kDone
                       : status.code() == StatusCode::kAborted ? TableEnd::kStopped
                                                               : TableEnd::kFailed;
  hooks.display->Finish(name, end, rows, status.ok() ? "" : status.message());
}

void ShowEnd(const RunHooks& hooks, const TableMapping& m, const std::optional<TableBackup>& backup,
             const std::optional<TableMigration>& migration,
             const std::optional<WarehouseLoad>& load) {
  int64_t rows = 0;
  Status status;
  auto take = [&](int64_t n, const Status& s) {
    rows = std::max(rows, n);
    if (status.ok()) status = s;
  };
  if (backup) take(backup->rows, backup->status);
  if (migration) take(migration->rows, migration->status);
  if (load) take(load->rows, load->status);
  ShowEnd(hooks, m.Name(), rows, status);
}

nlohmann::json LoadEntry(const WarehouseLoad& r) {
  return {{"engine", EngineName(r.engine)},
          {"table", r.table},
          {"kind", "warehouse"},
          {"target", WarehouseTableName(TableInfo{r.engine, "", r.table, {}, {}, ""})},
          {"status", r.status.ok() ? "SUCCESS" : "FAILED"},
          {"rows", r.rows},
          {"deleted", r.deleted ? nlohmann::json(*r.deleted) : nlohmann::json(nullptr)},
          {"duration_seconds", r.seconds},
          {"error", r.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.status.message())}};
}

std::string LoadLine(const WarehouseLoad& r) {
  std::string name = EngineName(r.engine) + "." + r.table + " -> warehouse: ";
  if (!r.status.ok()) return name + "FAILED: " + r.status.message();
  return name + std::to_string(r.rows) + " rows" +
         (r.deleted ? ", " + std::to_string(*r.deleted) + " deleted (gone from the source)" : "");
}

// Sync reads a table's changed rows in one pass sorted by (change column, key): without an
// index that starts with the change column, each run sorts the whole table.
void WarnWithoutIndex(Source& source, const TableInfo& info, const TableMapping& m,
                      const Say& say) {
  if (info.cursor_column.empty() || info.primary_key.empty() || info.engine == Engine::kMongo ||
      NullableCursor(info))  // refused for sync anyway, with its own message
    return;
  auto has = source.HasIndexLeadingWith(info, info.cursor_column);
  if (!has.ok() || *has) return;
  std::string cols = info.cursor_column;
  for (const auto& k : info.primary_key) cols += ", " + k;
  say("[sync] " + m.Name() + ": WARNING: no index starts with its change column '" +
      info.cursor_column + "', so each sync sorts the whole table; create one: CREATE INDEX ON " +
      info.name + " (" + cols + ")");
}

}  // namespace di::runs
