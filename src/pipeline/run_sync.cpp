// RunSync (pipeline/run.h): each mapped table's changed rows read once, in (change column,
// key) order, and upserted into its DynamoDB table and the warehouse (pipeline/table_run.h
// SyncIntoSinks), each target carried on from its own watermark, one table per worker.
#include "pipeline/run.h"
#include "pipeline/run_parts.h"
#include "pipeline/state.h"
#include "pipeline/sync_deletes.h"
#include "pipeline/table_run.h"
#include "pipeline/table_sinks.h"
#include "sources/factory.h"

namespace di {
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

// What one table of a sync gave: a result per target it has.
struct SyncResults {
  std::optional<TableMigration> migration;
  std::optional<WarehouseLoad> load;
};

// The sinks of one table's sync and where each starts.
struct SyncSinks {
  std::unique_ptr<DynamoSink> dynamodb;
  std::unique_ptr<WarehouseSink> warehouse;
  std::vector<SinkStart> starts;
  std::vector<std::string> targets;  // per start: its watermark's target ("" is DynamoDB's)
  Status warehouse_status;           // the warehouse could not be opened
};

// Each target's sink, started at its watermark (or at `since`); an error names what failed.
Result<SyncSinks> MakeSyncSinks(const RunWorld& world, const TableMapping& m,
                                MigrationSources& srcs, bool dynamodb, bool warehouse,
                                std::optional<int64_t> since, const std::string& run_id,
                                const RunHooks& hooks) {
  SyncSinks t;
  auto start = [&](Sink* sink, const std::string& target) -> Status {
    SinkStart s{sink, SincePosition(m, srcs.info, since), 0, std::nullopt};
    if (!since) {
      ASSIGN_OR_RETURN(s.after, world.state->GetWatermark(m.engine, m.table, target));
    }
    t.starts.push_back(s);
    t.targets.push_back(target);
    return Status::Ok();
  };
  if (dynamodb) {
    std::function<void(size_t, double)> on_batch;
    if (hooks.batch)
      on_batch = [&hooks, name = m.Name()](size_t items, double seconds) {
        hooks.batch(name, items, seconds);
      };
    std::string dead = world.config.s3.analytics_folder + "/dead_letters/" + run_id + "/" +
                       EngineName(m.engine) + "." + m.table + "/";
    t.dynamodb = std::make_unique<DynamoSink>(*srcs.lookup, srcs.info, *m.dynamodb, *world.dynamodb,
                                              world.store, dead, 0, nullptr, on_batch);
    RETURN_IF_ERROR(start(t.dynamodb.get(), ""));
  }
  if (warehouse) {  // one that cannot be reached fails alone; DynamoDB goes on
    auto wh = OpenWarehouse(world.config.analytics_database_url);
    if (!wh.ok()) {
      t.warehouse_status = wh.status();
      return t;
    }
    t.warehouse =
        std::make_unique<WarehouseSink>(std::move(*wh), srcs.info, WarehouseSink::Kind::kUpsert);
    RETURN_IF_ERROR(start(t.warehouse.get(), "warehouse"));
  }
  return t;
}

// Every target of the table failed with `s`.
SyncResults AllFailed(const TableMapping& m, bool dynamodb, bool warehouse, const Status& s) {
  SyncResults r;
  if (dynamodb) {
    r.migration.emplace();
    r.migration->engine = m.engine;
    r.migration->table = m.table;
    r.migration->target = m.dynamodb->table;
    r.migration->status = s;
  }
  if (warehouse) r.load = WarehouseLoad{m.engine, m.table, 0, 0, std::nullopt, s};
  return r;
}

// Each target's watermark moved to where it got, as its sink makes batches durable.
TableReadOptions::Checkpoint WatermarksOf(StateStore& state, const TableMapping& m,
                                          const SyncSinks& sinks, const std::string& run_id) {
  auto stored = std::make_shared<std::vector<std::optional<Position>>>(sinks.starts.size());
  for (size_t i = 0; i < sinks.starts.size(); ++i) (*stored)[i] = sinks.starts[i].after;
  return [&state, &m, targets = sinks.targets, stored, run_id](
             const std::vector<SinkStart>& at, const std::vector<nlohmann::json>&, bool) {
    for (size_t i = 0; i < at.size(); ++i) {
      auto& was = (*stored)[i];
      if (!at[i].after || (was && ComparePositions(*at[i].after, *was) <= 0)) continue;
      RETURN_IF_ERROR(state.PutWatermark(m.engine, m.table, *at[i].after, run_id, targets[i]));
      was = at[i].after;
    }
    return Status::Ok();
  };
}

// SYNC_DELETES: after its upserts, each target that took them loses what the source no longer
// has (pipeline/sync_deletes.h); a failure fails that target, saying what it was doing.
void DeleteGone(const RunWorld& world, const TableMapping& m, MigrationSources& srcs,
                const RunHooks& hooks, SyncResults& r) {
  const std::string what = "deleting what the source no longer has: ";
  if (r.migration && r.migration->status.ok()) {
    auto gone = DeleteGoneItems(*srcs.main, srcs.info, m, *world.dynamodb, world.store, hooks.stop);
    if (gone.ok())
      r.migration->deleted = gone->deleted;
    else
      r.migration->status = Status(gone.status().code(), what + gone.status().message());
  }
  if (r.load && r.load->status.ok()) {
    auto gone = [&]() -> Result<GoneDeleted> {
      ASSIGN_OR_RETURN(auto wh, OpenWarehouse(world.config.analytics_database_url));
      return DeleteGoneRows(*srcs.main, srcs.info, *wh,
                            static_cast<size_t>(world.config.run.batch_size));
    }();
    if (gone.ok())
      r.load->deleted = gone->deleted;
    else
      r.load->status = Status(gone.status().code(), what + gone.status().message());
  }
}

// One mapped table's sync: its changed rows read once into DynamoDB and the warehouse.
SyncResults SyncTable(const RunWorld& world, const TableMapping& m, bool warehouse,
                      std::optional<int64_t> since, const std::string& run_id, const Say& say,
                      const RunHooks& hooks) {
  const bool dynamodb = m.dynamodb.has_value();
  auto srcs = OpenMigrationSources(world.sources, m);
  if (!srcs.ok()) return AllFailed(m, dynamodb, warehouse, srcs.status());
  auto sinks = MakeSyncSinks(world, m, *srcs, dynamodb, warehouse, since, run_id, hooks);
  if (!sinks.ok()) return AllFailed(m, dynamodb, warehouse, sinks.status());
  WarnWithoutIndex(*srcs->main, srcs->info, m, say);
  TableReadOptions o;
  o.batch_size = static_cast<size_t>(world.config.run.batch_size);
  o.stop = hooks.stop;
  o.checkpoint = WatermarksOf(*world.state, m, *sinks, run_id);
  o.on_progress = Throttled("sync", m.Name(), -1, say, hooks, TaskName("table", m));
  o.reconnect = ReconnectFor(world.config.run, "sync", say, hooks.stop);
  TableReadOutcome out;
  if (!sinks->starts.empty()) out = SyncIntoSinks(*srcs->main, srcs->info, sinks->starts, o);
  SyncResults r;
  size_t i = 0;
  bool first = false;
  if (sinks->dynamodb) {
    r.migration = sinks->dynamodb->result();
    r.migration->status = SinkStatus(out, i);
    first = !sinks->starts[i++].after;
  }
  if (sinks->warehouse) {
    r.load = sinks->warehouse->result();
    r.load->status = SinkStatus(out, i++);
  } else if (warehouse) {
    r.load = WarehouseLoad{m.engine, m.table, 0, 0, std::nullopt, sinks->warehouse_status};
  }
  if (world.config.run.sync_deletes) DeleteGone(world, m, *srcs, hooks, r);
  if (r.migration)
    say("[sync] " + MigrationLine(*r.migration) +
        (first && r.migration->status.ok() ? " (first sync: all rows)" : ""));
  if (r.load) say("[sync] " + LoadLine(*r.load));
  return r;
}

}  // namespace

RunOutcome RunSync(const RunWorld& world, const std::vector<TableMapping>& mapping,
                   std::optional<int64_t> since_micros, const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  out.run_id = FreshRunId(world, {});
  if (!NeedsAws(world, "sync", out)) return out;
  auto started = world.clock.Now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  const bool warehouse = !world.config.analytics_database_url.empty();
  std::vector<size_t> todo;  // the tables with some target
  for (size_t i = 0; i < mapping.size(); ++i)
    if (mapping[i].dynamodb || warehouse) todo.push_back(i);
  std::vector<SyncResults> results(mapping.size());
  RunPool(todo.size(), world.config.run.workers, [&](size_t k) {
    const TableMapping& m = mapping[todo[k]];
    const SyncResults& r = results[todo[k]] =
        SyncTable(world, m, warehouse, since_micros, out.run_id, say, hooks);
    ShowEnd(hooks, m, std::nullopt, r.migration, r.load);
  });
  for (const auto& r : results) {
    if (r.migration) out.migrations.push_back(*r.migration);
    if (r.load) out.loads.push_back(*r.load);
  }
  nlohmann::json entries;
  out.status = RunStatus(out, hooks.stop && hooks.stop->load(), &entries);
  FinishReport(world, out, "sync", started, entries, say);
  return out;
}

}  // namespace di
