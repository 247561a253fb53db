#include "pipeline/run.h"

#include <chrono>
#include <map>
#include <set>

#include "pipeline/run_parts.h"
#include "pipeline/state.h"
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

Result<std::vector<TableMapping>> SelectTables(SourceFactory& sources,
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
    auto src = sources.Open(e);
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
    sources.Park(e, "", std::move(*src));  // for this run's first worker on `e`
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

std::string FreshRunId(const RunWorld& world, const std::vector<TableMapping>& tables) {
  const std::string& folder = world.config.s3.backup_folder;
  std::string base = MakeRunId(world.clock.Now());
  for (int n = 1;; ++n) {
    std::string id = n == 1 ? base : base + "-" + std::to_string(n);
    bool used = false;
    for (const auto& t : tables) {
      auto l = world.store.List(BackupPrefix(folder, t.engine, t.table, id));
      if (l.ok() && !l->empty()) used = true;
    }
    if (!used) return id;
  }
}

std::string RunStateName(RunState state) {
  switch (state) {
    case RunState::kSuccess:
      return "SUCCESS";
    case RunState::kPartial:
      return "PARTIAL";
    case RunState::kStopped:
      return "STOPPED";
    case RunState::kFailed:
      break;
  }
  return "FAILED";
}

namespace {
using namespace runs;

// The position `since` (UTC micros) stands for, in a table's cursor kind.
std::optional<Position> SincePosition(const TableMapping& m, const TableInfo& info,
                                      std::optional<int64_t> since_micros) {
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
}

// One mapped table's sync into the warehouse, from its warehouse watermark.
WarehouseLoad SyncWarehouseTable(const RunWorld& world, const TableMapping& m,
                                 std::optional<int64_t> since_micros, const std::string& run_id) {
  StateStore& state = *world.state;
  WarehouseLoad r;
  r.engine = m.engine;
  r.table = m.table;
  auto src = world.sources.Open(m.engine, m.database);
  auto info = src.ok() ? DescribeMapped(**src, m) : Result<TableInfo>(src.status());
  auto wm = info.ok() ? state.GetWatermark(m.engine, m.table, "warehouse")
                      : Result<std::optional<Position>>(info.status());
  auto wh = wm.ok() ? OpenWarehouse(world.config.analytics_database_url)
                    : Result<std::unique_ptr<Warehouse>>(wm.status());
  if (!wh.ok()) {
    r.status = wh.status();
    return r;
  }
  std::optional<Position> after = since_micros ? SincePosition(m, *info, since_micros) : *wm;
  return SyncIntoWarehouse(**src, *info, **wh, static_cast<size_t>(world.config.run.batch_size),
                           after, [&](const Position& p) {
                             return state.PutWatermark(m.engine, m.table, p, run_id, "warehouse");
                           });
}

// One mapped table's sync into DynamoDB, from its watermark.
TableMigration SyncDynamoTable(const RunWorld& world, const TableMapping& m,
                               std::optional<int64_t> since_micros, const std::string& run_id,
                               const Say& say, const RunHooks& hooks) {
  StateStore& state = *world.state;
  TableMigration r;
  r.engine = m.engine;
  r.table = m.table;
  r.target = m.dynamodb->table;
  auto srcs = OpenMigrationSources(world.sources, m);
  Result<std::optional<Position>> wm = srcs.ok() ? state.GetWatermark(m.engine, m.table)
                                                 : Result<std::optional<Position>>(srcs.status());
  if (!wm.ok()) {
    r.status = wm.status();
    say("[sync] " + MigrationLine(r));
    return r;
  }
  const TableInfo* info = &srcs->info;
  WarnWithoutIndex(*srcs->main, *info, m, say);
  MigrateOptions o = BaseMigrateOptions(world.config, run_id);
  o.incremental = true;
  o.after = since_micros ? SincePosition(m, *info, since_micros) : *wm;
  o.checkpoint = [&](const Position& p, const TableMigration&) {
    return state.PutWatermark(m.engine, m.table, p, run_id);
  };
  o.stop_on_failure = true;
  o.on_progress = Throttled("sync", m.Name() + " -> " + m.dynamodb->table, -1, say, hooks,
                            "dynamodb:" + m.Name());
  o.stop = hooks.stop;
  if (hooks.batch)
    o.on_batch = [&](size_t items, double seconds) { hooks.batch(m.Name(), items, seconds); };
  r = MigrateTable(*srcs->main, *srcs->lookup, *info, *m.dynamodb, *world.dynamodb, world.store, o);
  say("[sync] " + MigrationLine(r) + (o.after || !r.status.ok() ? "" : " (first sync: all rows)"));
  return r;
}

}  // namespace

RunOutcome RunBackup(const RunWorld& world, const std::vector<TableMapping>& tables,
                     std::vector<std::string> problems, const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  out.problems = std::move(problems);
  out.run_id = FreshRunId(world, tables);
  auto started = world.clock.Now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  out.tables.resize(tables.size());
  RunPool(tables.size(), world.config.run.workers,
          [&](size_t i) { out.tables[i] = BackupOne(world, tables[i], out.run_id, say, hooks); });
  nlohmann::json entries;
  out.status = RunStatus(out, hooks.stop && hooks.stop->load(), &entries);
  FinishReport(world, out, "backup", started, entries, say);
  return out;
}

RunOutcome RunSync(const RunWorld& world, const std::vector<TableMapping>& mapping,
                   std::optional<int64_t> since_micros, const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  out.run_id = MakeRunId(world.clock.Now());
  if (!NeedsAws(world, "sync", out)) return out;
  auto started = world.clock.Now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  std::vector<const TableMapping*> todo = MappedToDynamo(mapping);
  const bool warehouse = !world.config.analytics_database_url.empty();
  out.migrations.resize(todo.size());
  out.loads.resize(warehouse ? mapping.size() : 0);
  RunPool(todo.size() + out.loads.size(), world.config.run.workers, [&](size_t k) {
    if (k < todo.size()) {
      out.migrations[k] = SyncDynamoTable(world, *todo[k], since_micros, out.run_id, say, hooks);
      return;
    }
    WarehouseLoad& r = out.loads[k - todo.size()];
    r = SyncWarehouseTable(world, mapping[k - todo.size()], since_micros, out.run_id);
    say("[sync] " + LoadLine(r));
  });
  nlohmann::json entries;
  out.status = RunStatus(out, hooks.stop && hooks.stop->load(), &entries);
  FinishReport(world, out, "sync", started, entries, say);
  return out;
}

}  // namespace di
