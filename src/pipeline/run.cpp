#include "pipeline/run.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/json_encode.h"
#include "pipeline/analytics.h"
#include "pipeline/migrate.h"
#include "pipeline/state.h"
#include "pipeline/warehouse_load.h"
#include "sinks/compressor.h"
#include "sources/factory.h"

namespace di {

Result<std::vector<TableMapping>> PickMapped(const std::vector<TableMapping>& mapping,
                                             const std::vector<std::string>& names,
                                             bool dynamodb_only) {
  std::vector<TableMapping> out;
  for (const auto& m : mapping)
    if ((!dynamodb_only || m.dynamodb) && names.empty()) out.push_back(m);
  for (const auto& n : names) {
    std::vector<const TableMapping*> hits;
    for (const auto& m : mapping)
      if ((!dynamodb_only || m.dynamodb) && (m.table == n || m.Name() == n)) hits.push_back(&m);
    if (hits.empty()) {
      std::string mapped;
      for (const auto& m : mapping)
        if (!dynamodb_only || m.dynamodb) mapped += (mapped.empty() ? "" : ", ") + m.Name();
      return NotFound("table '" + n + "' is not " +
                      (dynamodb_only ? "mapped to DynamoDB" : "in the mapping") +
                      "; mapped tables: " + mapped);
    }
    if (hits.size() > 1)
      return InvalidArgument("table '" + n + "' is in several engines; name it as " +
                             hits[0]->Name() + " or " + hits[1]->Name());
    out.push_back(*hits[0]);
  }
  return out;
}

Result<std::vector<TableMapping>> SelectTables(const Config& config,
                                               const std::vector<TableMapping>* mapping,
                                               const std::vector<std::string>& names,
                                               std::vector<std::string>* problems) {
  if (mapping) {
    std::vector<TableMapping> backed;
    for (const auto& m : *mapping)
      if (m.backup) backed.push_back(m);
    return PickMapped(backed, names, false);
  }
  // Names given as <engine>.<table> need only their engines listed (and connected to).
  std::set<Engine> engines;
  for (const auto& n : names) {
    std::optional<Engine> named;
    for (Engine e : {Engine::kMySql, Engine::kPostgres, Engine::kMongo})
      if (n.rfind(EngineName(e) + ".", 0) == 0) named = e;
    if (!named) {
      engines.clear();
      break;
    }
    engines.insert(*named);
  }
  if (engines.empty()) engines = {Engine::kMySql, Engine::kPostgres, Engine::kMongo};
  std::map<Engine, std::vector<std::string>> listed;
  for (Engine e : engines) {
    auto src = OpenSource(e, config);
    if (!src.ok()) {
      problems->push_back(src.status().message());
      continue;
    }
    auto tables = (*src)->ListTables();
    if (!tables.ok()) {
      problems->push_back(tables.status().message());
      continue;
    }
    listed[e] = *tables;
    ParkSource(e, config, "", std::move(*src));  // for this run's first worker on `e`
  }
  std::vector<TableMapping> all;
  for (auto& [e, ts] : listed)
    for (auto& t : ts) all.emplace_back(e, t);
  if (names.empty()) return all;
  auto picked = PickMapped(all, names, false);
  if (picked.ok() || picked.status().code() != StatusCode::kNotFound) return picked;
  std::string where;
  for (auto& [e, ts] : listed)
    where +=
        (where.empty() ? "" : ", ") + EngineName(e) + " (" + std::to_string(ts.size()) + " tables)";
  for (const auto& n : names)
    if (!PickMapped(all, {n}, false).ok())
      return NotFound("table '" + n + "' is not in " +
                      (where.empty() ? "any reachable database" : where) +
                      (problems->empty() ? "" : "; unreachable: " + (*problems)[0]));
  return picked;
}

std::string FreshRunId(ObjectStore& store, const std::string& folder,
                       const std::vector<TableMapping>& tables) {
  std::string base = MakeRunId(std::chrono::system_clock::now());
  for (int n = 1;; ++n) {
    std::string id = n == 1 ? base : base + "-" + std::to_string(n);
    bool used = false;
    for (const auto& t : tables) {
      auto l = store.List(BackupPrefix(folder, t.engine, t.table, id));
      if (l.ok() && !l->empty()) used = true;
    }
    if (!used) return id;
  }
}

namespace {

using Say = std::function<void(const std::string&)>;

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

TableBackup BackupOne(const Config& config, const TableMapping& ref, ObjectStore& store,
                      const std::string& run_id, const Say& say, const RunHooks& hooks) {
  TableBackup r;
  r.engine = ref.engine;
  r.table = ref.table;
  r.run_id = run_id;
  auto src = OpenSource(ref.engine, config, ref.database);
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
  auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  int64_t estimate = (*src)->EstimateRows(*info);
  o.stop = hooks.stop;
  o.on_progress = [&](int64_t rows) {
    if (hooks.progress) hooks.progress("backup:" + ref.Name(), rows);
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(2)) return;
    last = now;
    say("[backup] " +
        ProgressLine(ref.Name(), rows, estimate, std::chrono::duration<double>(now - t0).count()));
  };
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

std::vector<const TableMapping*> MappedToDynamo(const std::vector<TableMapping>& mapping) {
  std::vector<const TableMapping*> out;
  for (const auto& m : mapping)
    if (m.dynamodb) out.push_back(&m);
  return out;
}

// Two connections to a mapped table's database (the streamed read and the lookups) and
// the table's description.
struct MigrationSources {
  std::unique_ptr<Source> main, lookup;
  TableInfo info;
};

Result<MigrationSources> OpenMigrationSources(const Config& config, const TableMapping& m) {
  MigrationSources s;
  ASSIGN_OR_RETURN(s.main, OpenSource(m.engine, config, m.database));
  ASSIGN_OR_RETURN(s.lookup, OpenSource(m.engine, config, m.database));
  ASSIGN_OR_RETURN(s.info, DescribeMapped(*s.main, m));
  return s;
}

MigrateOptions BaseMigrateOptions(const Config& config, const std::string& run_id) {
  MigrateOptions o;
  o.batch_size = static_cast<size_t>(config.run.batch_size);
  o.run_id = run_id;
  o.dead_letter_prefix = config.s3.analytics_folder + "/dead_letters/" + run_id + "/";
  return o;
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
          {"error", !r.status.ok() ? nlohmann::json(r.status.message())
                    : r.failed     ? nlohmann::json(r.last_batch_error)
                                   : nlohmann::json(nullptr)}};
}

std::string MigrationLine(const TableMigration& r) {
  std::string name = EngineName(r.engine) + "." + r.table + " -> " + r.target + ": ";
  if (!r.status.ok()) return name + "FAILED: " + r.status.message();
  return name + std::to_string(r.written) + " items written" +
         (r.dead_lettered ? ", " + std::to_string(r.dead_lettered) + " dead-lettered" : "") +
         (r.failed ? ", " + std::to_string(r.failed) + " failed (" + r.last_batch_error + ")" : "");
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

void FinishReport(const Config& config, ObjectStore& store, RunOutcome& out,
                  const std::string& mode, std::chrono::system_clock::time_point started,
                  nlohmann::json tables, const Say& say) {
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
                {"finished_at", FormatTimestamp(Micros(std::chrono::system_clock::now()))},
                {"record_counts", counts},
                {"total_records_migrated", total},
                {"migration_status", out.status},
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

}  // namespace

RunOutcome RunBackup(const Config& config, const std::vector<TableMapping>& tables,
                     ObjectStore& store, std::vector<std::string> problems, const Say& log,
                     const RunHooks& hooks) {
  RunOutcome out;
  out.problems = std::move(problems);
  out.run_id = FreshRunId(store, config.s3.backup_folder, tables);
  auto started = std::chrono::system_clock::now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  out.tables.resize(tables.size());
  RunPool(tables.size(), config.run.workers, [&](size_t i) {
    out.tables[i] = BackupOne(config, tables[i], store, out.run_id, say, hooks);
  });
  size_t ok = 0;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : out.tables) {
    ok += r.status.ok();
    entries.push_back(BackupEntry(r));
  }
  out.status = ok == out.tables.size() && out.problems.empty() ? "SUCCESS"
               : ok == 0                                       ? "FAILED"
                                                               : "PARTIAL";
  if (hooks.stop && hooks.stop->load()) out.status = "STOPPED";
  FinishReport(config, store, out, "backup", started, entries, say);
  return out;
}

namespace {

std::string TaskName(const char* kind, const TableMapping& m) {
  return std::string(kind) + ":" + m.Name();
}

nlohmann::json Counts(const TableMigration& r) {
  return {{"rows", r.rows},     {"written", r.written},   {"dead_lettered", r.dead_lettered},
          {"failed", r.failed}, {"warnings", r.warnings}, {"dead_letter_key", r.dead_letter_key}};
}

void AddCounts(TableMigration& r, const nlohmann::json& c) {
  r.rows += c.value("rows", int64_t{0});
  r.written += c.value("written", int64_t{0});
  r.dead_lettered += c.value("dead_lettered", int64_t{0});
  r.failed += c.value("failed", int64_t{0});
  r.warnings += c.value("warnings", int64_t{0});
  if (r.dead_letter_key.empty()) r.dead_letter_key = c.value("dead_letter_key", "");
}

// Throttled progress lines: "[mode] name: rows of ~estimate, rows/s, ETA".
std::function<void(int64_t)> Throttled(const std::string& mode, const std::string& name,
                                       int64_t estimate, const Say& say, const RunHooks& hooks,
                                       const std::string& task) {
  auto t0 = std::chrono::steady_clock::now();
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(t0);
  auto progress = hooks.progress;
  return [=](int64_t rows) {
    if (progress) progress(task, rows);
    auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::seconds(2)) return;
    *last = now;
    say("[" + mode + "] " +
        ProgressLine(name, rows, estimate, std::chrono::duration<double>(now - t0).count()));
  };
}

// Crash testing: with DI_CRASH_AFTER_CHECKPOINTS=N in the environment the process kills
// itself (SIGKILL) right after its N-th migrate checkpoint, and with
// DI_PAUSE_AFTER_CHECKPOINT_MS=M it waits M ms after each one, so tests can stop a run at a
// known point instead of racing a timer against the run.
void CrashPointForTests() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::strtol(v, nullptr, 10) : 0L;
  };
  static const long limit = env("DI_CRASH_AFTER_CHECKPOINTS");
  static const long pause_ms = env("DI_PAUSE_AFTER_CHECKPOINT_MS");
  static std::atomic<long> seen{0};
  if (limit > 0 && ++seen >= limit) std::raise(SIGKILL);
  if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
}

// One mapped table into DynamoDB within a migrate run, from its checkpoint when the run is
// resumed; each good batch moves the sync watermark and the run's checkpoint together.
TableMigration MigrateOne(const Config& config, const TableMapping& m, ObjectStore& store,
                          aws::DynamoDbClient& dynamodb, StateStore& state,
                          const std::string& run_id, bool resumed, const Say& say,
                          const RunHooks& hooks) {
  TableMigration r;
  r.engine = m.engine;
  r.table = m.table;
  r.target = m.dynamodb->table;
  const std::string task = TaskName("dynamodb", m);
  nlohmann::json base = nlohmann::json::object();
  MigrateOptions o = BaseMigrateOptions(config, run_id);
  if (resumed) {
    auto rec = state.GetTask(run_id, task);
    if (!rec.ok()) {
      r.status = rec.status();
      return r;
    }
    if (rec->is_object() && (*rec)["state"] == "done") {
      AddCounts(r, *rec);
      say("[migrate] " + m.Name() + ": already migrated by this run before it stopped");
      return r;
    }
    // Checkpoints of a run before this version were in (cursor, key) order: not resumed.
    if (rec->is_object() && rec->contains("position") && rec->value("order", "") == "key") {
      auto p = DecodePosition((*rec)["position"].get<std::string>());
      if (p.ok()) {
        o.after = *p;
        if (rec->contains("high_water")) {
          auto h = DecodePosition((*rec)["high_water"].get<std::string>());
          if (h.ok()) o.high_water = *h;
        }
        base = *rec;
        o.row_offset = base.value("rows", int64_t{0});
        say("[migrate] " + m.Name() + ": resuming after " + std::to_string(o.row_offset) + " rows");
      }
    }
  }
  auto srcs = OpenMigrationSources(config, m);
  if (!srcs.ok()) {
    r.status = srcs.status();
    return r;
  }
  const TableInfo* info = &srcs->info;
  // Tables with a primary key are read in its order (one ordered pass, which needs no index
  // but the key's and no change column), checkpointed per batch and resumed after the last
  // checkpoint. Otherwise one streamed pass, re-run whole when resumed.
  if (!info->primary_key.empty()) {
    o.by_key = true;
    o.checkpoint = [&](const Position& p, const TableMigration& so_far) -> Status {
      TableMigration total = so_far;
      AddCounts(total, base);
      nlohmann::json rec = Counts(total);
      rec["state"] = "running";
      rec["order"] = "key";
      rec["position"] = EncodePosition(p);
      if (so_far.high_water) rec["high_water"] = EncodePosition(*so_far.high_water);
      RETURN_IF_ERROR(state.PutTask(run_id, task, rec));
      CrashPointForTests();
      return Status::Ok();
    };
  } else {
    o.after.reset();
    o.row_offset = 0;
    base = nlohmann::json::object();
  }
  o.on_progress = Throttled("migrate", m.Name() + " -> " + m.dynamodb->table,
                            srcs->main->EstimateRows(*info), say, hooks, task);
  o.stop = hooks.stop;
  if (hooks.batch)
    o.on_batch = [&](size_t items, double seconds) { hooks.batch(m.Name(), items, seconds); };
  r = MigrateTable(*srcs->main, *srcs->lookup, *info, *m.dynamodb, dynamodb, store, o);
  AddCounts(r, base);
  // The whole table read and written: a later sync starts after the greatest change seen.
  if (r.status.ok() && r.failed == 0 && r.high_water)
    r.status = state.PutWatermark(m.engine, m.table, *r.high_water, run_id);
  if (r.status.ok()) {
    nlohmann::json rec = Counts(r);
    rec["state"] = "done";
    Status s = state.PutTask(run_id, task, rec);
    if (!s.ok()) r.status = s;
  }
  return r;
}

// A backup within a migrate run: when the run is resumed, a table whose manifest exists
// is done; otherwise what the stopped run left under its prefix is removed and it starts
// again (parts without a manifest were never a backup).
TableBackup BackupInRun(const Config& config, const TableMapping& m, ObjectStore& store,
                        const std::string& run_id, bool resumed, const Say& say,
                        const RunHooks& hooks) {
  if (resumed) {
    std::string prefix = BackupPrefix(config.s3.backup_folder, m.engine, m.table, run_id);
    auto manifest = store.Get(prefix + "manifest.json");
    if (manifest.ok()) {
      auto j = nlohmann::json::parse(*manifest, nullptr, false);
      if (!j.is_discarded() && j.contains("parts")) {
        TableBackup r;
        r.engine = m.engine;
        r.table = m.table;
        r.run_id = run_id;
        r.rows = j.value("row_count", int64_t{0});
        r.parts = j["parts"].size();
        for (const auto& p : j["parts"]) r.bytes += p.value("bytes", uint64_t{0});
        r.manifest_key = prefix + "manifest.json";
        say("[backup] " + m.Name() + ": already backed up by this run before it stopped");
        return r;
      }
    }
    auto stale = store.List(prefix);
    if (stale.ok() && !stale->empty()) {
      std::vector<std::string> keys;
      for (const auto& o : *stale) keys.push_back(o.key);
      store.Delete(keys).ok();
    }
  }
  return BackupOne(config, m, store, run_id, say, hooks);
}

// A table's full load into the warehouse within a migrate run; its end position becomes
// the warehouse's sync watermark.
WarehouseLoad LoadOne(const Config& config, const TableMapping& m, StateStore& state,
                      const std::string& run_id, bool resumed, const Say& say,
                      const RunHooks& hooks) {
  WarehouseLoad r;
  r.engine = m.engine;
  r.table = m.table;
  const std::string task = TaskName("warehouse", m);
  if (resumed) {
    auto rec = state.GetTask(run_id, task);
    if (rec.ok() && rec->is_object() && (*rec)["state"] == "done") {
      r.rows = rec->value("rows", int64_t{0});
      say("[warehouse] " + m.Name() + ": already loaded by this run before it stopped");
      return r;
    }
  }
  auto src = OpenSource(m.engine, config, m.database);
  auto info = src.ok() ? DescribeMapped(**src, m) : Result<TableInfo>(src.status());
  auto wh = info.ok() ? OpenWarehouse(config.analytics_database_url)
                      : Result<std::unique_ptr<Warehouse>>(info.status());
  if (!wh.ok()) {
    r.status = wh.status();
    return r;
  }
  r = LoadIntoWarehouse(
      **src, *info, **wh, static_cast<size_t>(config.run.batch_size),
      Throttled("warehouse", m.Name(), (*src)->EstimateRows(*info), say, hooks, task), hooks.stop);
  if (r.status.ok() && r.high_water)
    r.status = state.PutWatermark(m.engine, m.table, *r.high_water, run_id, "warehouse");
  if (r.status.ok()) r.status = state.PutTask(run_id, task, {{"state", "done"}, {"rows", r.rows}});
  return r;
}

nlohmann::json LoadEntry(const WarehouseLoad& r) {
  return {{"engine", EngineName(r.engine)},
          {"table", r.table},
          {"kind", "warehouse"},
          {"target", WarehouseTableName(TableInfo{r.engine, "", r.table, {}, {}, ""})},
          {"status", r.status.ok() ? "SUCCESS" : "FAILED"},
          {"rows", r.rows},
          {"duration_seconds", r.seconds},
          {"error", r.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.status.message())}};
}

std::string LoadLine(const WarehouseLoad& r) {
  std::string name = EngineName(r.engine) + "." + r.table + " -> warehouse: ";
  return r.status.ok() ? name + std::to_string(r.rows) + " rows"
                       : name + "FAILED: " + r.status.message();
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

}  // namespace

RunOutcome RunMigrate(const Config& config, const std::vector<TableMapping>& mapping,
                      ObjectStore& store, aws::DynamoDbClient& dynamodb, const Say& log,
                      const RunHooks& hooks) {
  RunOutcome out;
  SerialLog serial(log);
  Say say = std::ref(serial);
  StateStore state(dynamodb, config.dynamodb.state_table);
  std::vector<TableMapping> refs;
  for (const auto& m : mapping)
    if (m.backup) refs.push_back(m);
  // A migrate that was stopped (killed, crashed) before it finished is resumed: same run id,
  // finished tables kept, the others from their last checkpoint.
  auto last = state.GetRun("migrate");
  if (!last.ok()) out.problems.push_back("state table: " + last.status().message());
  bool resumed = last.ok() && last->is_object() && (*last)["state"] == "running";
  out.run_id = resumed ? (*last)["run_id"].get<std::string>()
                       : FreshRunId(store, config.s3.backup_folder, refs);
  out.resumed = resumed;
  if (resumed) say("[migrate] resuming run " + out.run_id + ", which stopped before it finished");
  if (Status s = state.PutRun("migrate", out.run_id, "running"); !s.ok() && last.ok())
    out.problems.push_back("state table: " + s.message());
  auto started = std::chrono::system_clock::now();
  std::vector<const TableMapping*> migrations = MappedToDynamo(mapping);
  const bool warehouse = !config.analytics_database_url.empty();
  out.tables.resize(refs.size());
  out.migrations.resize(migrations.size());
  out.loads.resize(warehouse ? mapping.size() : 0);
  const size_t m_end = migrations.size(), b_end = m_end + refs.size();
  RunPool(b_end + out.loads.size(), config.run.workers, [&](size_t k) {
    if (k < m_end) {
      out.migrations[k] = MigrateOne(config, *migrations[k], store, dynamodb, state, out.run_id,
                                     resumed, say, hooks);
      say("[migrate] " + MigrationLine(out.migrations[k]));
    } else if (k < b_end) {
      out.tables[k - m_end] =
          BackupInRun(config, refs[k - m_end], store, out.run_id, resumed, say, hooks);
    } else {
      WarehouseLoad& r = out.loads[k - b_end];
      r = LoadOne(config, mapping[k - b_end], state, out.run_id, resumed, say, hooks);
      say("[warehouse] " + LoadLine(r));
    }
  });
  const bool stopped = hooks.stop && hooks.stop->load();
  // The cinema analytics exports, when the cinema tables are what was migrated.
  if (config.run.mapping_file.empty() && !stopped) {
    std::string date =
        out.run_id.substr(0, 4) + "-" + out.run_id.substr(4, 2) + "-" + out.run_id.substr(6, 2);
    out.exports = ExportCinemaAnalytics(config, store, date);
    for (const auto& e : out.exports) {
      if (e.status.ok())
        say("[analytics] " + e.dataset + ": " + std::to_string(e.rows) + " rows -> " +
            store.Describe(e.key));
      else
        out.problems.push_back("analytics export " + e.dataset + ": " + e.status.message());
    }
  }
  size_t ok = 0, total_tasks = out.tables.size() + out.migrations.size() + out.loads.size();
  bool clean = true;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : out.tables) {
    ok += r.status.ok();
    entries.push_back(BackupEntry(r));
  }
  for (const auto& r : out.migrations) {
    ok += r.status.ok();
    if (r.dead_lettered || r.failed) clean = false;
    entries.push_back(MigrationEntry(r));
  }
  for (const auto& r : out.loads) {
    ok += r.status.ok();
    entries.push_back(LoadEntry(r));
  }
  out.status = ok == total_tasks && clean && out.problems.empty() ? "SUCCESS"
               : ok == 0                                          ? "FAILED"
                                                                  : "PARTIAL";
  if (stopped) {
    out.status = "STOPPED";
    say("[migrate] stopped at a batch boundary; `--mode migrate` resumes run " + out.run_id);
  }
  FinishReport(config, store, out, "migrate", started, entries, say);
  // Finished (whatever its status): the next migrate is a new run. A stopped one is not.
  if (stopped) return out;
  if (Status s = state.PutRun("migrate", out.run_id, "done"); !s.ok())
    say("[migrate] could not record the run as finished in the state table: " + s.message());
  return out;
}

RunOutcome RunSync(const Config& config, const std::vector<TableMapping>& mapping,
                   ObjectStore& store, aws::DynamoDbClient& dynamodb,
                   std::optional<int64_t> since_micros, const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  out.run_id = MakeRunId(std::chrono::system_clock::now());
  auto started = std::chrono::system_clock::now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  StateStore state(dynamodb, config.dynamodb.state_table);
  std::vector<const TableMapping*> todo = MappedToDynamo(mapping);
  const bool warehouse = !config.analytics_database_url.empty();
  out.migrations.resize(todo.size());
  out.loads.resize(warehouse ? mapping.size() : 0);
  // The position `since` stands for, in a table's cursor kind.
  auto since_position = [&](const TableMapping& m,
                            const TableInfo& info) -> std::optional<Position> {
    if (!since_micros) return std::nullopt;
    if (info.cursor_column == "_id") {  // an ObjectId whose time is `since`
      ObjectId id;
      uint32_t secs = static_cast<uint32_t>(*since_micros / 1000000);
      for (int b = 0; b < 4; ++b) id.bytes[b] = static_cast<uint8_t>(secs >> (24 - 8 * b));
      return Position{id, {}};
    }
    Value c = m.engine == Engine::kMongo ? Value(BsonDate{*since_micros / 1000})
                                         : Value(Timestamp{*since_micros});
    return Position{c, {}};
  };
  RunPool(todo.size() + out.loads.size(), config.run.workers, [&](size_t k) {
    if (k >= todo.size()) {
      const TableMapping& m = mapping[k - todo.size()];
      WarehouseLoad& r = out.loads[k - todo.size()];
      r.engine = m.engine;
      r.table = m.table;
      auto src = OpenSource(m.engine, config, m.database);
      auto info = src.ok() ? DescribeMapped(**src, m) : Result<TableInfo>(src.status());
      auto wm = info.ok() ? state.GetWatermark(m.engine, m.table, "warehouse")
                          : Result<std::optional<Position>>(info.status());
      auto wh = wm.ok() ? OpenWarehouse(config.analytics_database_url)
                        : Result<std::unique_ptr<Warehouse>>(wm.status());
      if (!wh.ok()) {
        r.status = wh.status();
      } else {
        std::optional<Position> after = since_micros ? since_position(m, *info) : *wm;
        r = SyncIntoWarehouse(**src, *info, **wh, static_cast<size_t>(config.run.batch_size), after,
                              [&](const Position& p) {
                                return state.PutWatermark(m.engine, m.table, p, out.run_id,
                                                          "warehouse");
                              });
      }
      say("[sync] " + LoadLine(r));
      return;
    }
    const TableMapping& m = *todo[k];
    TableMigration& r = out.migrations[k];
    r.engine = m.engine;
    r.table = m.table;
    r.target = m.dynamodb->table;
    auto srcs = OpenMigrationSources(config, m);
    Result<std::optional<Position>> wm = srcs.ok() ? state.GetWatermark(m.engine, m.table)
                                                   : Result<std::optional<Position>>(srcs.status());
    if (!wm.ok()) {
      r.status = wm.status();
      say("[sync] " + MigrationLine(r));
      return;
    }
    const TableInfo* info = &srcs->info;
    WarnWithoutIndex(*srcs->main, *info, m, say);
    MigrateOptions o = BaseMigrateOptions(config, out.run_id);
    o.incremental = true;
    o.after = since_micros ? since_position(m, *info) : *wm;
    o.checkpoint = [&](const Position& p, const TableMigration&) {
      return state.PutWatermark(m.engine, m.table, p, out.run_id);
    };
    o.stop_on_failure = true;
    o.on_progress = Throttled("sync", m.Name() + " -> " + m.dynamodb->table, -1, say, hooks,
                              "dynamodb:" + m.Name());
    o.stop = hooks.stop;
    if (hooks.batch)
      o.on_batch = [&](size_t items, double seconds) { hooks.batch(m.Name(), items, seconds); };
    r = MigrateTable(*srcs->main, *srcs->lookup, *info, *m.dynamodb, dynamodb, store, o);
    say("[sync] " + MigrationLine(r) +
        (o.after || !r.status.ok() ? "" : " (first sync: all rows)"));
  });
  size_t ok = 0;
  bool clean = true;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : out.migrations) {
    ok += r.status.ok();
    if (r.dead_lettered || r.failed) clean = false;
    entries.push_back(MigrationEntry(r));
  }
  for (const auto& r : out.loads) {
    ok += r.status.ok();
    entries.push_back(LoadEntry(r));
  }
  size_t total = out.migrations.size() + out.loads.size();
  out.status = ok == total && clean ? "SUCCESS" : ok == 0 ? "FAILED" : "PARTIAL";
  if (hooks.stop && hooks.stop->load()) out.status = "STOPPED";
  FinishReport(config, store, out, "sync", started, entries, say);
  return out;
}

}  // namespace di
