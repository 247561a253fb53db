#include "pipeline/run.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "core/json_encode.h"
#include "sinks/compressor.h"
#include "sources/factory.h"

namespace di {

Result<std::vector<TableRef>> SelectTables(const Config& config,
                                           const std::vector<std::string>& names,
                                           std::vector<std::string>* problems) {
  std::map<Engine, std::vector<std::string>> listed;
  for (Engine e : {Engine::kMySql, Engine::kPostgres, Engine::kMongo}) {
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
  }
  std::vector<TableRef> out;
  if (names.empty()) {
    for (auto& [e, ts] : listed)
      for (auto& t : ts) out.push_back({e, t});
    return out;
  }
  for (const auto& name : names) {
    std::vector<TableRef> hits;
    size_t dot = name.find('.');
    auto engine = dot == std::string::npos ? Result<Engine>(InvalidArgument(""))
                                           : ParseEngine(name.substr(0, dot));
    for (auto& [e, ts] : listed) {
      std::string want = engine.ok() ? name.substr(dot + 1) : name;
      if (engine.ok() && *engine != e) continue;
      for (auto& t : ts)
        if (t == want) hits.push_back({e, t});
    }
    if (hits.empty()) {
      std::string where;
      for (auto& [e, ts] : listed)
        where += (where.empty() ? "" : ", ") + EngineName(e) + " (" + std::to_string(ts.size()) +
                 " tables)";
      return NotFound("table '" + name + "' is not in " +
                      (where.empty() ? "any reachable database" : where) +
                      (problems->empty() ? "" : "; unreachable: " + (*problems)[0]));
    }
    if (hits.size() > 1)
      return InvalidArgument("table '" + name + "' is in several engines; name it as " +
                             hits[0].Name() + " or " + hits[1].Name());
    out.push_back(hits[0]);
  }
  return out;
}

std::string FreshRunId(ObjectStore& store, const std::string& folder,
                       const std::vector<TableRef>& tables) {
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

RunOutcome RunBackup(const Config& config, const std::vector<TableRef>& tables, ObjectStore& store,
                     std::vector<std::string> problems,
                     const std::function<void(const std::string&)>& log) {
  RunOutcome out;
  out.problems = std::move(problems);
  out.run_id = FreshRunId(store, config.s3.backup_folder, tables);
  auto started = std::chrono::system_clock::now();
  out.tables.resize(tables.size());
  std::atomic<size_t> next{0};
  std::mutex log_mu;
  auto say = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log(line);
  };
  auto worker = [&] {
    while (true) {
      size_t i = next++;
      if (i >= tables.size()) return;
      const TableRef& ref = tables[i];
      TableBackup& r = out.tables[i];
      r.engine = ref.engine;
      r.table = ref.table;
      r.run_id = out.run_id;
      auto src = OpenSource(ref.engine, config);
      if (!src.ok()) {
        r.status = src.status();
        say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
        continue;
      }
      auto info = (*src)->Describe(ref.table);
      if (!info.ok()) {
        r.status = info.status();
        say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
        continue;
      }
      BackupOptions o;
      o.codec = config.s3.compression;
      o.folder = config.s3.backup_folder;
      o.batch_size = static_cast<size_t>(config.run.batch_size);
      auto t0 = std::chrono::steady_clock::now();
      auto last = t0;
      o.on_progress = [&](int64_t rows) {
        auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::seconds(2)) return;
        last = now;
        double secs = std::chrono::duration<double>(now - t0).count();
        say("[backup] " + ref.Name() + ": " + std::to_string(rows) + " rows, " +
            std::to_string(static_cast<int64_t>(rows / secs)) + " rows/s");
      };
      r = BackupTable(**src, *info, store, o, out.run_id);
      if (r.status.ok())
        say("[backup] " + ref.Name() + ": " + std::to_string(r.rows) + " rows, " +
            std::to_string(r.parts) + (r.parts == 1 ? " part, " : " parts, ") +
            std::to_string(r.bytes) + " bytes in " + std::to_string(r.seconds).substr(0, 5) +
            "s -> " + store.Describe(r.manifest_key));
      else
        say("[backup] " + ref.Name() + ": FAILED: " + r.status.message());
    }
  };
  std::vector<std::thread> pool;
  int n = std::max(1, std::min<int>(config.run.workers, static_cast<int>(tables.size())));
  for (int i = 0; i < n; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();

  size_t ok = 0;
  int64_t total = 0;
  nlohmann::json counts = nlohmann::json::object(), per_table = nlohmann::json::array();
  for (const auto& r : out.tables) {
    if (r.status.ok()) {
      ++ok;
      total += r.rows;
      counts[EngineName(r.engine)][r.table] = r.rows;
    }
    per_table.push_back(
        {{"engine", EngineName(r.engine)},
         {"table", r.table},
         {"status", r.status.ok() ? "SUCCESS" : "FAILED"},
         {"rows", r.rows},
         {"bytes", r.bytes},
         {"parts", r.parts},
         {"duration_seconds", r.seconds},
         {"retries", 0},
         {"dead_lettered", 0},
         {"error", r.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.status.message())},
         {"manifest", r.manifest_key}});
  }
  out.status = ok == out.tables.size() && out.problems.empty() ? "SUCCESS"
               : ok == 0                                       ? "FAILED"
                                                               : "PARTIAL";
  auto micros = [](auto tp) {
    return std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  };
  out.report = {{"run_id", out.run_id},
                {"mode", "backup"},
                {"migration_timestamp", FormatTimestamp(micros(started))},
                {"finished_at", FormatTimestamp(micros(std::chrono::system_clock::now()))},
                {"record_counts", counts},
                {"total_records_migrated", total},
                {"migration_status", out.status},
                {"codec", CodecName(config.s3.compression)},
                {"tables", per_table},
                {"problems", out.problems}};
  out.report_key = config.s3.analytics_folder + "/migration_reports/" + out.run_id + ".json";
  Status s = store.Put(out.report_key, out.report.dump(2) + "\n", "application/json");
  if (!s.ok()) {
    say("[backup] could not write the report " + store.Describe(out.report_key) + ": " +
        s.message());
    out.report_key.clear();
  }
  return out;
}

}  // namespace di
