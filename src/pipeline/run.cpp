#include "pipeline/run.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/json_encode.h"
#include "pipeline/migrate.h"
#include "pipeline/state.h"
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
                      const std::string& run_id, const Say& say) {
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
  o.on_progress = [&](int64_t rows) {
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
                     ObjectStore& store, std::vector<std::string> problems, const Say& log) {
  RunOutcome out;
  out.problems = std::move(problems);
  out.run_id = FreshRunId(store, config.s3.backup_folder, tables);
  auto started = std::chrono::system_clock::now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  out.tables.resize(tables.size());
  RunPool(tables.size(), config.run.workers,
          [&](size_t i) { out.tables[i] = BackupOne(config, tables[i], store, out.run_id, say); });
  size_t ok = 0;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : out.tables) {
    ok += r.status.ok();
    entries.push_back(BackupEntry(r));
  }
  out.status = ok == out.tables.size() && out.problems.empty() ? "SUCCESS"
               : ok == 0                                       ? "FAILED"
                                                               : "PARTIAL";
  FinishReport(config, store, out, "backup", started, entries, say);
  return out;
}

RunOutcome RunMigrate(const Config& config, const std::vector<TableMapping>& mapping,
                      ObjectStore& store, aws::DynamoDbClient& dynamodb, const Say& log) {
  RunOutcome out;
  std::vector<TableMapping> refs;
  for (const auto& m : mapping)
    if (m.backup) refs.push_back(m);
  out.run_id = FreshRunId(store, config.s3.backup_folder, refs);
  auto started = std::chrono::system_clock::now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  StateStore state(dynamodb, config.dynamodb.state_table);
  std::vector<const TableMapping*> migrations = MappedToDynamo(mapping);
  out.tables.resize(refs.size());
  out.migrations.resize(migrations.size());
  RunPool(migrations.size() + refs.size(), config.run.workers, [&](size_t k) {
    if (k >= migrations.size()) {
      size_t i = k - migrations.size();
      out.tables[i] = BackupOne(config, refs[i], store, out.run_id, say);
      return;
    }
    const TableMapping& m = *migrations[k];
    TableMigration& r = out.migrations[k];
    r.engine = m.engine;
    r.table = m.table;
    r.target = m.dynamodb->table;
    auto srcs = OpenMigrationSources(config, m);
    if (!srcs.ok()) {
      r.status = srcs.status();
    } else {
      const TableInfo* info = &srcs->info;
      MigrateOptions o = BaseMigrateOptions(config, out.run_id);
      // Keyset pages where the table allows them, so the state table learns where a later
      // sync starts from.
      if (!info->cursor_column.empty() && !info->primary_key.empty()) {
        o.incremental = true;
        o.checkpoint = [&](const Position& p) {
          return state.PutWatermark(m.engine, m.table, p, out.run_id);
        };
      }
      r = MigrateTable(*srcs->main, *srcs->lookup, *info, *m.dynamodb, dynamodb, store, o);
    }
    say("[migrate] " + MigrationLine(r));
  });
  size_t ok = 0, total_tasks = out.tables.size() + out.migrations.size();
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
  out.status = ok == total_tasks && clean ? "SUCCESS" : ok == 0 ? "FAILED" : "PARTIAL";
  FinishReport(config, store, out, "migrate", started, entries, say);
  return out;
}

RunOutcome RunSync(const Config& config, const std::vector<TableMapping>& mapping,
                   ObjectStore& store, aws::DynamoDbClient& dynamodb,
                   std::optional<int64_t> since_micros, const Say& log) {
  RunOutcome out;
  out.run_id = MakeRunId(std::chrono::system_clock::now());
  auto started = std::chrono::system_clock::now();
  SerialLog serial(log);
  Say say = std::ref(serial);
  StateStore state(dynamodb, config.dynamodb.state_table);
  std::vector<const TableMapping*> todo = MappedToDynamo(mapping);
  out.migrations.resize(todo.size());
  RunPool(todo.size(), config.run.workers, [&](size_t k) {
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
    MigrateOptions o = BaseMigrateOptions(config, out.run_id);
    o.incremental = true;
    o.after = *wm;
    if (since_micros) {
      Value c = info->cursor_column == "_id" ? Value(ObjectId{})
                : m.engine == Engine::kMongo ? Value(BsonDate{*since_micros / 1000})
                                             : Value(Timestamp{*since_micros});
      if (info->cursor_column == "_id") {  // an ObjectId whose time is `since`
        ObjectId id;
        uint32_t secs = static_cast<uint32_t>(*since_micros / 1000000);
        for (int b = 0; b < 4; ++b) id.bytes[b] = static_cast<uint8_t>(secs >> (24 - 8 * b));
        c = id;
      }
      o.after = Position{c, {}};
    }
    o.checkpoint = [&](const Position& p) {
      return state.PutWatermark(m.engine, m.table, p, out.run_id);
    };
    o.stop_on_failure = true;
    r = MigrateTable(*srcs->main, *srcs->lookup, *info, *m.dynamodb, dynamodb, store, o);
    say("[sync] " + MigrationLine(r) + (o.after ? "" : " (first sync: all rows)"));
  });
  size_t ok = 0;
  bool clean = true;
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : out.migrations) {
    ok += r.status.ok();
    if (r.dead_lettered || r.failed) clean = false;
    entries.push_back(MigrationEntry(r));
  }
  out.status = ok == out.migrations.size() && clean ? "SUCCESS" : ok == 0 ? "FAILED" : "PARTIAL";
  FinishReport(config, store, out, "sync", started, entries, say);
  return out;
}

}  // namespace di
