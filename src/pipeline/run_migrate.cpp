// RunMigrate (pipeline/run.h): each mapped table read once and written to its backup, its
// DynamoDB table and the warehouse (pipeline/table_run.h), one table per worker.
#include <chrono>
#include <set>

#include "pipeline/run.h"
#include "pipeline/run_parts.h"
#include "pipeline/state.h"
#include "pipeline/table_run.h"
#include "pipeline/table_sinks.h"
#include "sources/factory.h"

namespace di {
namespace {

using namespace runs;

// What one table of a migrate run gave: a result per target it has.
struct TableResults {
  std::optional<TableBackup> backup;
  std::optional<TableMigration> migration;
  std::optional<WarehouseLoad> load;
};

std::string TableTask(const TableMapping& m) {
  return TaskName("table", m);
}

// The state record of a table whose every target finished, and back.
nlohmann::json DoneRecord(const TableResults& r) {
  nlohmann::json rec = {{"state", "done"}};
  if (r.backup)
    rec["backup"] = {{"rows", r.backup->rows},
                     {"bytes", r.backup->bytes},
                     {"parts", r.backup->parts},
                     {"manifest", r.backup->manifest_key}};
  if (r.migration) rec["dynamodb"] = DynamoSink::CountsJson(*r.migration);
  if (r.load) rec["warehouse"] = {{"rows", r.load->rows}};
  return rec;
}

TableResults FromDone(const nlohmann::json& rec, const TableMapping& m, const std::string& run_id,
                      bool warehouse) {
  TableResults r;
  if (m.backup) {
    TableBackup b;
    b.engine = m.engine;
    b.table = m.table;
    b.run_id = run_id;
    const nlohmann::json j = rec.value("backup", nlohmann::json::object());
    b.rows = j.value("rows", int64_t{0});
    b.bytes = j.value("bytes", uint64_t{0});
    b.parts = j.value("parts", size_t{0});
    b.manifest_key = j.value("manifest", "");
    r.backup = b;
  }
  if (m.dynamodb) {
    TableMigration t;
    t.engine = m.engine;
    t.table = m.table;
    t.target = m.dynamodb->table;
    DynamoSink::AddCounts(t, rec.value("dynamodb", nlohmann::json::object()));
    r.migration = t;
  }
  if (warehouse) {
    WarehouseLoad w;
    w.engine = m.engine;
    w.table = m.table;
    w.rows = rec.value("warehouse", nlohmann::json::object()).value("rows", int64_t{0});
    r.load = w;
  }
  return r;
}

// Every target of the table failed with `s` (it could not be read at all).
TableResults AllFailed(const TableMapping& m, const std::string& run_id, bool warehouse,
                       const Status& s) {
  TableResults r = FromDone(nlohmann::json::object(), m, run_id, warehouse);
  if (r.backup) r.backup->status = s;
  if (r.migration) r.migration->status = s;
  if (r.load) r.load->status = s;
  return r;
}

// What a stopped run left under the backup's prefix beyond the parts it carries on from:
// removed (parts without a manifest were never a backup; a manifest without its table's
// record is one the run wrote just before it was stopped, and is written again).
void RemoveStale(ObjectStore& store, const std::string& prefix, const nlohmann::json& keep) {
  std::set<std::string> kept;
  if (keep.is_object() && keep.contains("parts"))
    for (const auto& p : keep["parts"]) kept.insert(p.value("key", ""));
  auto listed = store.List(prefix);
  if (!listed.ok()) return;
  std::vector<std::string> stale;
  for (const auto& o : *listed)
    if (!kept.count(o.key)) stale.push_back(o.key);
  if (!stale.empty()) store.Delete(stale).ok();
}

// The sinks of one table and where each carries on from.
struct TableSinks {
  std::unique_ptr<BackupSink> backup;
  std::unique_ptr<DynamoSink> dynamodb;
  std::unique_ptr<WarehouseSink> warehouse;
  std::vector<SinkStart> starts;
  Status warehouse_status;  // the warehouse could not be opened
};

TableSinks MakeSinks(const RunWorld& world, const TableMapping& m, MigrationSources& srcs,
                     const std::string& run_id, const nlohmann::json& record,
                     const RunHooks& hooks) {
  const Config& config = world.config;
  ObjectStore& store = world.store;
  TableSinks t;
  const bool by_key = !srcs.info.primary_key.empty();
  const nlohmann::json sinks = record.is_object() && by_key
                                   ? record.value("sinks", nlohmann::json::object())
                                   : nlohmann::json::object();
  // A sink's start and the checkpoint it resumes from (none when it starts again).
  auto start_of = [&](const std::string& name, nlohmann::json* resume) {
    SinkStart s = SinkStartFrom(nullptr, sinks.value(name, nlohmann::json()));
    *resume = s.after ? sinks[name].value("checkpoint", nlohmann::json()) : nlohmann::json();
    return s;
  };
  nlohmann::json resume;
  if (m.backup) {
    SinkStart s = start_of("backup", &resume);
    BackupOptions o;
    o.codec = config.s3.compression;
    o.folder = config.s3.backup_folder;
    o.batch_size = static_cast<size_t>(config.run.batch_size);
    if (record.is_object())
      RemoveStale(store, BackupPrefix(o.folder, m.engine, m.table, run_id), resume);
    t.backup = std::make_unique<BackupSink>(store, srcs.info, o, run_id, resume);
    s.sink = t.backup.get();
    t.starts.push_back(s);
  }
  if (m.dynamodb) {
    SinkStart s = start_of("dynamodb:" + m.dynamodb->table, &resume);
    std::function<void(size_t, double)> on_batch;
    if (hooks.batch)
      on_batch = [&hooks, name = m.Name()](size_t items, double seconds) {
        hooks.batch(name, items, seconds);
      };
    std::string dead = config.s3.analytics_folder + "/dead_letters/" + run_id + "/" +
                       EngineName(m.engine) + "." + m.table + "/";
    t.dynamodb =
        std::make_unique<DynamoSink>(srcs.lookups(), srcs.info, *m.dynamodb, *world.dynamodb, store,
                                     dead, s.offset, resume, on_batch);
    s.sink = t.dynamodb.get();
    t.starts.push_back(s);
  }
  if (!config.analytics_database_url.empty()) {
    auto wh = OpenWarehouse(config.analytics_database_url);
    if (!wh.ok()) {
      t.warehouse_status = wh.status();
    } else {  // one transaction: always from the start
      t.warehouse = std::make_unique<WarehouseSink>(std::move(*wh), srcs.info);
      t.starts.push_back(SinkStart{t.warehouse.get(), std::nullopt, 0, std::nullopt});
    }
  }
  return t;
}

// "resuming: dynamodb:users after 400 rows, backup from the start"
std::string ResumeLine(const std::vector<SinkStart>& starts) {
  std::string line;
  for (const auto& s : starts)
    line += (line.empty() ? "" : ", ") + s.sink->name() +
            (s.after ? " after " + std::to_string(s.offset) + " rows" : " from the start");
  return "resuming: " + line;
}

// The results of a table read, each target's watermark stored once it holds the whole
// table, and the lines said.
TableResults Collect(const TableMapping& m, TableSinks& sinks, const TableReadOutcome& out,
                     StateStore& state, const std::string& run_id, ObjectStore& store,
                     const Say& say) {
  TableResults r;
  size_t i = 0;
  if (sinks.backup) {
    r.backup = sinks.backup->result();
    r.backup->status = SinkStatus(out, i++);
    if (r.backup->status.ok())
      say("[backup] " + m.Name() + ": " + std::to_string(r.backup->rows) + " rows, " +
          std::to_string(r.backup->parts) + (r.backup->parts == 1 ? " part, " : " parts, ") +
          std::to_string(r.backup->bytes) + " bytes -> " + store.Describe(r.backup->manifest_key));
    else
      say("[backup] " + m.Name() + ": FAILED: " + r.backup->status.message());
  }
  if (sinks.dynamodb) {
    r.migration = sinks.dynamodb->result();
    r.migration->status = SinkStatus(out, i++);
    r.migration->high_water = out.high_water;
    if (r.migration->status.ok() && r.migration->failed == 0 && out.high_water)
      r.migration->status = state.PutWatermark(m.engine, m.table, *out.high_water, run_id);
    say("[migrate] " + MigrationLine(*r.migration));
  }
  if (sinks.warehouse || !sinks.warehouse_status.ok()) {
    if (sinks.warehouse) {
      r.load = sinks.warehouse->result();
      r.load->status = SinkStatus(out, i++);
      if (r.load->status.ok() && out.high_water)
        r.load->status =
            state.PutWatermark(m.engine, m.table, *out.high_water, run_id, "warehouse");
    } else {
      r.load = WarehouseLoad{m.engine, m.table, 0, 0, std::nullopt, sinks.warehouse_status};
    }
    say("[warehouse] " + LoadLine(*r.load));
  }
  return r;
}

// The checkpoint of a table read: every sink's place and own state, in the table's record.
// The last call (`ended`) is marked so, so it is not counted as a read's checkpoint by the
// crash tests (pipeline/state_faults.h).
TableReadOptions::Checkpoint CheckpointInto(StateStore& state, const std::string& run_id,
                                            const std::string& task) {
  return [&state, run_id, task](const std::vector<SinkStart>& at,
                                const std::vector<nlohmann::json>& cps, bool ended) {
    nlohmann::json rec = {{"state", "running"}, {"order", "key"}};
    if (ended) rec["ended"] = true;
    for (size_t i = 0; i < at.size(); ++i)
      rec["sinks"][at[i].sink->name()] = SinkStartJson(at[i], cps[i]);
    return state.PutTask(run_id, task, rec);
  };
}

// A table whose every target succeeded: its snapshot position (where change capture starts)
// and its done record stored. False when a target failed or the state table did not take them.
void RecordFinished(StateStore& state, const TableMapping& m, const std::string& run_id,
                    const std::string& task, const LogPosition& snapshot, TableResults& r,
                    bool all_ok, const Say& say) {
  for (const auto* s :
       {r.backup ? &r.backup->status : nullptr, r.migration ? &r.migration->status : nullptr,
        r.load ? &r.load->status : nullptr})
    if (s && !s->ok()) all_ok = false;
  if (all_ok && !snapshot.empty()) {
    Status s = state.PutSnapshot(m.engine, m.table,
                                 {{"run_id", run_id}, {"snapshot", LogPositionJson(snapshot)}});
    if (!s.ok()) all_ok = false;
    if (!s.ok()) say("[migrate] " + m.Name() + ": could not record its snapshot: " + s.message());
  }
  if (!all_ok) return;
  Status s = state.PutTask(run_id, task, DoneRecord(r));
  if (!s.ok() && r.migration) r.migration->status = s;
}

// Progress of a table read: the throttled line, and hooks.progress for each of its targets.
std::function<void(int64_t)> TableProgress(const TableMapping& m, const TableSinks& sinks,
                                           int64_t estimate, const Say& say,
                                           const RunHooks& hooks) {
  std::vector<std::string> tasks;  // "backup:<table>", "dynamodb:<table>", "warehouse:<table>"
  for (const auto& s : sinks.starts)
    tasks.push_back(TaskName(s.sink->name().substr(0, s.sink->name().find(':')).c_str(), m));
  RunHooks lines = hooks;  // the display or the log lines; hooks.progress per target below
  lines.progress = nullptr;
  auto line = Throttled("migrate", m.Name(), estimate, say, lines, "");
  return [line, tasks, &hooks](int64_t rows) {
    line(rows);
    if (hooks.progress)
      for (const auto& t : tasks) hooks.progress(t, rows);
  };
}

// One mapped table within a migrate run: read once into each of its targets, each carried
// on from its own checkpoint when the run is resumed.
TableResults MigrateTableRun(const RunWorld& world, const TableMapping& m,
                             const std::string& run_id, bool resumed, const Say& say,
                             const RunHooks& hooks) {
  const bool warehouse = !world.config.analytics_database_url.empty();
  StateStore& state = *world.state;
  const std::string task = TableTask(m);
  nlohmann::json record;
  if (resumed) {
    auto rec = state.GetTask(run_id, task);
    if (!rec.ok()) return AllFailed(m, run_id, warehouse, rec.status());
    if (rec->is_object() && rec->value("state", "") == "done") {
      say("[migrate] " + m.Name() + ": already migrated by this run before it stopped");
      return FromDone(*rec, m, run_id, warehouse);
    }
    record = rec->is_object() ? *rec : nlohmann::json::object();
  }
  auto srcs = OpenMigrationSources(world.sources, m);
  if (!srcs.ok()) return AllFailed(m, run_id, warehouse, srcs.status());
  const TableInfo& info = srcs->info;
  if (info.primary_key.empty() && m.backup)
    say("[backup] " + m.Name() +
        ": no primary key; backed up in full (incremental sync and DynamoDB need one)");
  // The read's snapshot, and the lookups' too, before anything is read or written; let go
  // when the table is done, whichever way.
  TableSnapshot snapshot(*srcs, m, say);
  auto pinned = snapshot.Pin();
  if (!pinned.ok()) {
    say("[migrate] " + m.Name() + ": FAILED: " + pinned.status().message());
    return AllFailed(m, run_id, warehouse, pinned.status());
  }
  TableSinks sinks = MakeSinks(world, m, *srcs, run_id, record, hooks);
  bool fresh = true;  // every target from the start: one read, one snapshot
  for (const auto& s : sinks.starts) fresh = fresh && !s.after;
  if (!fresh) say("[migrate] " + m.Name() + ": " + ResumeLine(sinks.starts));
  TableReadOptions o;
  // Its place in the change log is recorded only for a read of the whole table in key order
  // (one transaction): a resumed run's targets began on another snapshot.
  o.snapshot = fresh ? *pinned : LogPosition();
  o.batch_size = static_cast<size_t>(world.config.run.batch_size);
  o.by_key = !info.primary_key.empty();
  o.stop = hooks.stop;
  // Tables with a primary key are read in its order and checkpointed; without one there is
  // no position to carry on from, and a resumed run reads them again whole.
  if (o.by_key) o.checkpoint = CheckpointInto(state, run_id, task);
  o.on_progress = TableProgress(m, sinks, srcs->main->EstimateRows(info), say, hooks);
  o.reconnect = ReconnectFor(world.config.run, "migrate", say, hooks.stop);
  bool snapshot_lost = false;  // a reconnect read the rest of the table in another snapshot
  o.reconnect.on_snapshot_lost = [&snapshot_lost] { snapshot_lost = true; };
  TableReadOutcome out;
  if (!sinks.starts.empty()) out = ReadIntoSinks(*srcs->main, info, sinks.starts, o);
  snapshot.Release();
  TableResults r = Collect(m, sinks, out, state, run_id, world.store, say);
  if (snapshot_lost && !o.snapshot.empty()) {
    say("[migrate] " + m.Name() +
        ": its snapshot's place in the change log is not recorded (a reconnect read part of the "
        "table in another snapshot); a stream takes a snapshot of its own");
    o.snapshot = LogPosition();
  }
  RecordFinished(state, m, run_id, task, o.snapshot, r,
                 out.status().ok() && sinks.warehouse_status.ok(), say);
  return r;
}

// The cinema analytics exports of a migrate (when the cinema tables are what it migrated).
void ExportAnalytics(const RunWorld& world, RunOutcome& out, const Say& say) {
  std::string date =
      out.run_id.substr(0, 4) + "-" + out.run_id.substr(4, 2) + "-" + out.run_id.substr(6, 2);
  out.exports = ExportCinemaAnalytics(world.config, world.sources, world.store, date);
  for (const auto& e : out.exports) {
    if (e.status.ok())
      say("[analytics] " + e.dataset + ": " + std::to_string(e.rows) + " rows -> " +
          world.store.Describe(e.key));
    else
      out.problems.push_back("analytics export " + e.dataset + ": " + e.status.message());
  }
}

}  // namespace

RunOutcome RunMigrate(const RunWorld& world, const std::vector<TableMapping>& mapping,
                      const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  const Config& config = world.config;
  if (!NeedsAws(world, "migrate", out)) return out;
  StateStore& state = *world.state;
  SerialLog serial(log);
  Say say = std::ref(serial);
  std::vector<TableMapping> refs;
  for (const auto& m : mapping)
    if (m.backup) refs.push_back(m);
  // A migrate that was stopped (killed, crashed) before it finished is resumed: same run id,
  // finished tables kept, the others from their last checkpoints.
  auto last = state.GetRun("migrate");
  if (!last.ok()) out.problems.push_back("state table: " + last.status().message());
  bool resumed = last.ok() && last->is_object() && (*last)["state"] == "running";
  out.run_id = resumed ? (*last)["run_id"].get<std::string>() : FreshRunId(world, refs);
  out.resumed = resumed;
  if (resumed) say("[migrate] resuming run " + out.run_id + ", which stopped before it finished");
  if (Status s = state.PutRun("migrate", out.run_id, "running"); !s.ok() && last.ok())
    out.problems.push_back("state table: " + s.message());
  auto started = world.clock.Now();
  const bool warehouse = !config.analytics_database_url.empty();
  std::vector<size_t> todo;  // the tables with some target
  for (size_t i = 0; i < mapping.size(); ++i)
    if (mapping[i].backup || mapping[i].dynamodb || warehouse) todo.push_back(i);
  std::vector<TableResults> results(mapping.size());
  RunPool(todo.size(), config.run.workers, [&](size_t k) {
    const TableResults& r = results[todo[k]] =
        MigrateTableRun(world, mapping[todo[k]], out.run_id, resumed, say, hooks);
    ShowEnd(hooks, mapping[todo[k]], r.backup, r.migration, r.load);
  });
  for (const auto& r : results) {
    if (r.backup) out.tables.push_back(*r.backup);
    if (r.migration) out.migrations.push_back(*r.migration);
    if (r.load) out.loads.push_back(*r.load);
  }
  const bool stopped = hooks.stop && hooks.stop->load();
  if (config.run.mapping_file.empty() && !stopped) ExportAnalytics(world, out, say);
  nlohmann::json entries;
  out.status = RunStatus(out, stopped, &entries);
  if (stopped)
    say("[migrate] stopped at a batch boundary; `--mode migrate` resumes run " + out.run_id);
  FinishReport(world, out, "migrate", started, entries, say);
  // Finished (whatever its status): the next migrate is a new run. A stopped one is not.
  if (stopped) return out;
  if (Status s = state.PutRun("migrate", out.run_id, "done"); !s.ok())
    say("[migrate] could not record the run as finished in the state table: " + s.message());
  return out;
}

}  // namespace di
