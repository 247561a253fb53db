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
    // Used: by a backup of one of the tables, or by another run's report (runs of any mode in
    // one second would otherwise write one report over the other).
    auto report =
        world.store.List(world.config.s3.analytics_folder + "/migration_reports/" + id + ".json");
    bool used = report.ok() && !report->empty();
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

using namespace runs;

RunOutcome RunBackup(const RunWorld& world, const std::vector<TableMapping>& tables,
                     std::vector<std::string> problems, const Say& log, const RunHooks& hooks) {
  RunOutcome out;
  out.problems = std::move(problems);
  out.run_id = FreshRunId(world, tables);
  auto started = world.clock.Now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  out.tables.resize(tables.size());
  RunPool(tables.size(), world.config.run.workers, [&](size_t i) {
    out.tables[i] = BackupOne(world, tables[i], out.run_id, say, hooks);
    ShowEnd(hooks, tables[i].Name(), out.tables[i].rows, out.tables[i].status);
  });
  nlohmann::json entries;
  out.status = RunStatus(out, hooks.stop && hooks.stop->load(), &entries);
  FinishReport(world, out, "backup", started, entries, say);
  return out;
}

}  // namespace di
