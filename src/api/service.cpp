#include "api/service.h"

#include <future>
#include <thread>

#include "core/json_encode.h"
#include "core/log.h"
#include "pipeline/dynamo_browse.h"
#include "pipeline/run.h"
#include "scheduler/scheduler.h"
#include "sinks/warehouse.h"
#include "sources/factory.h"

namespace di {
namespace {

void DescribeMetrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    Metrics& m = Metrics::Global();
    m.Describe("di_rows_read_total", "counter", "Rows read from the sources, per table and kind.");
    m.Describe("di_rows_written_total", "counter",
               "Rows or items written to a target (backup, dynamodb, warehouse), per table.");
    m.Describe("di_bytes_written_total", "counter", "Compressed backup bytes stored, per table.");
    m.Describe("di_errors_total", "counter", "Tables that failed or ended partial, per table.");
    m.Describe("di_dead_letters_total", "counter", "Items sent to dead letters, per table.");
    m.Describe("di_failed_items_total", "counter",
               "Items of batches that failed every retry, per table.");
    m.Describe("di_batch_duration_seconds", "histogram", "DynamoDB batch write latency.");
    m.Describe("di_jobs_finished_total", "counter", "Jobs finished, per kind and state.");
    m.Describe("di_jobs", "gauge", "Jobs known to this process, per kind and state.");
    m.Describe("di_last_success_timestamp_seconds", "gauge",
               "When a job of each kind last succeeded (Unix time).");
    m.Describe("di_aws_requests_total", "counter", "AWS request attempts, per service.");
    m.Describe("di_aws_retries_total", "counter", "AWS requests retried, per service.");
    m.Describe("di_aws_throttled_total", "counter", "AWS requests throttled, per service.");
    DescribeStreamMetrics(m);
  });
}

std::string JobState(RunState status) {
  switch (status) {
    case RunState::kSuccess:
      return "succeeded";
    case RunState::kPartial:
      return "partial";
    case RunState::kStopped:
      return "stopped";
    case RunState::kFailed:
      break;
  }
  return "failed";
}

RunHooks HooksFor(JobContext& ctx) {
  RunHooks h;
  h.stop = ctx.stop;
  h.progress = ctx.progress;
  h.batch = [](const std::string& table, size_t, double seconds) {
    Metrics::Global().Observe("di_batch_duration_seconds", {{"table", table}}, seconds);
  };
  return h;
}

std::function<void(const std::string&)> JobLog(JobContext& ctx) {
  auto logger = GetLogger("pipeline");
  return [logger, &ctx](const std::string& line) {
    logger->info("[{}] {}", ctx.id, line);
    ctx.log(Redact(line));
  };
}

}  // namespace

Service::Service(std::vector<TableMapping> mapping, const RunWorld& world, aws::AwsClients& clients,
                 JobManager& jobs)
    : mapping_(std::move(mapping)),
      world_(world),
      clients_(clients),
      jobs_(jobs),
      stream_(world_, mapping_, [](const std::string& line) { GetLogger("stream")->info(line); }) {
  DescribeMetrics();
}

JobResult Service::Finish(const std::string& kind, const RunOutcome& o) {
  Metrics& m = Metrics::Global();
  JobResult r;
  r.state = JobState(o.status);
  r.run_id = o.run_id;
  r.report_key = o.report_key.empty() ? "" : world_.store.Describe(o.report_key);
  r.errors = o.problems;
  r.details = {{"status", RunStateName(o.status)},
               {"tables", o.report.value("tables", nlohmann::json::array())}};
  for (const auto& t : r.details["tables"]) {
    std::string table = t.value("engine", "") + "." + t.value("table", "");
    std::string k = t.value("kind", "");
    int64_t rows = t.value("rows", int64_t{0});
    m.Add("di_rows_read_total", {{"table", table}, {"kind", k}}, static_cast<double>(rows));
    int64_t written = k == "dynamodb" ? t.value("items_written", int64_t{0}) : rows;
    if (t.value("status", "") != "FAILED")
      m.Add("di_rows_written_total", {{"table", table}, {"target", k}},
            static_cast<double>(written));
    if (k == "backup") m.Add("di_bytes_written_total", {{"table", table}}, t.value("bytes", 0.0));
    if (t.value("status", "") != "SUCCESS") {
      m.Add("di_errors_total", {{"table", table}, {"kind", k}});
      if (!t["error"].is_null())
        r.errors.push_back(table + " (" + k + "): " + t["error"].get<std::string>());
    }
    if (t.contains("deleted") && t["deleted"].is_number())  // SYNC_DELETES
      m.Add("di_rows_deleted_total", {{"table", table}, {"target", k}}, t["deleted"].get<double>());
    if (k == "dynamodb") {
      m.Add("di_dead_letters_total", {{"table", table}}, t.value("dead_lettered", 0.0));
      m.Add("di_failed_items_total", {{"table", table}}, t.value("failed_items", 0.0));
    }
  }
  m.Add("di_jobs_finished_total", {{"kind", kind}, {"state", r.state}});
  if (r.state == "succeeded")
    m.Set("di_last_success_timestamp_seconds", {{"kind", kind}},
          static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
  return r;
}

Result<std::string> Service::StartMigrate() {
  return jobs_.Submit(
      "migrate", nlohmann::json::object(),
      [this](JobContext& ctx) {
        auto o = RunMigrate(world_, mapping_, JobLog(ctx), HooksFor(ctx));
        return Finish("migrate", o);
      },
      true);
}

Result<std::string> Service::StartBackup(const std::vector<std::string>& tables) {
  std::vector<std::string> problems;
  ASSIGN_OR_RETURN(
      auto picked,
      SelectTables(world_.sources, world_.config.run.mapping_file.empty() ? nullptr : &mapping_,
                   tables, &problems));
  return jobs_.Submit(
      "backup", {{"tables", tables}},
      [this, picked, problems](JobContext& ctx) {
        auto o = RunBackup(world_, picked, problems, JobLog(ctx), HooksFor(ctx));
        return Finish("backup", o);
      },
      false);
}

Result<std::string> Service::StartSync(const std::vector<std::string>& tables,
                                       std::optional<int64_t> since) {
  ASSIGN_OR_RETURN(auto picked,
                   PickMapped(mapping_, tables, world_.config.analytics_database_url.empty()));
  nlohmann::json params = {{"tables", tables}};
  if (since) params["last_sync_time"] = FormatTimestamp(*since);
  return jobs_.Submit(
      "sync", params,
      [this, picked, since](JobContext& ctx) {
        auto o = RunSync(world_, picked, since, JobLog(ctx), HooksFor(ctx));
        return Finish("sync", o);
      },
      false);
}

Result<std::string> Service::StartRestore(const RestoreOptions& options) {
  nlohmann::json params = {{"source_db", EngineName(options.engine)},
                           {"table", options.table},
                           {"run_id", options.run_id},
                           {"target_table", options.target_table},
                           {"target_url", MaskUrlPassword(options.target_url)}};
  return jobs_.Submit(
      "restore", params,
      [this, options](JobContext& ctx) {
        JobResult r;
        auto res = RunRestore(world_.config, world_.store, options, JobLog(ctx));
        Metrics& m = Metrics::Global();
        if (!res.ok()) {
          r.state = "failed";
          r.errors.push_back(res.status().message());
        } else {
          r.state = "succeeded";
          r.run_id = res->run_id;
          r.details = {{"rows", res->rows},
                       {"parts", res->parts},
                       {"target", res->target},
                       {"seconds", res->seconds},
                       {"warnings", res->warnings}};
          m.Set("di_last_success_timestamp_seconds", {{"kind", "restore"}},
                static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()));
        }
        m.Add("di_jobs_finished_total", {{"kind", "restore"}, {"state", r.state}});
        return r;
      },
      false);
}

std::pair<nlohmann::json, bool> Service::Health(std::chrono::milliseconds timeout) {
  struct Check {
    std::string name;
    bool required;
    std::function<Status()> run;
  };
  // Each component answers for itself: the sources' factory opens a connection to each
  // engine, the object store and the state store check their bucket and table.
  const RunWorld* w = &world_;
  const Config& c = world_.config;
  auto source = [w](Engine e) {
    return [w, e] {
      auto s = w->sources.Open(e);
      return s.ok() ? Status::Ok() : s.status();
    };
  };
  std::vector<Check> checks = {
      {"mysql", true, source(Engine::kMySql)},
      {"postgresql", true, source(Engine::kPostgres)},
      {"mongodb", true, source(Engine::kMongo)},
      {"s3", true, [w] { return w->store.Check(); }},
      {"dynamodb", true,
       [w] { return w->state ? w->state->Check() : Unavailable("no AWS clients configured"); }},
  };
  if (!c.schedule.redis_url.empty())
    checks.push_back({"redis", true, [url = c.schedule.redis_url] {
                        auto r = MakeRedisCoordinator(url);
                        return r.ok() ? Status::Ok() : r.status();
                      }});
  if (!c.analytics_database_url.empty())
    checks.push_back({"warehouse", true, [url = c.analytics_database_url] {
                        auto w = OpenWarehouse(url);
                        return w.ok() ? Status::Ok() : w.status();
                      }});
  // Each check on its own thread; one that does not answer in time is reported as such
  // (its thread finishes on its own).
  std::vector<std::pair<std::future<Status>, std::chrono::steady_clock::time_point>> futures;
  auto t0 = std::chrono::steady_clock::now();
  for (auto& ch : checks) {
    auto p = std::make_shared<std::promise<Status>>();
    futures.emplace_back(p->get_future(), t0);
    std::thread([p, run = ch.run] { p->set_value(run()); }).detach();
  }
  nlohmann::json deps = nlohmann::json::object();
  bool healthy = true;
  auto deadline = t0 + timeout;
  for (size_t i = 0; i < checks.size(); ++i) {
    nlohmann::json d = {{"required", checks[i].required}};
    if (futures[i].first.wait_until(deadline) == std::future_status::ready) {
      Status s = futures[i].first.get();
      d["latency_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
      d["status"] = s.ok() ? "up" : "down";
      if (!s.ok()) d["error"] = Redact(s.message());
    } else {
      d["status"] = "down";
      d["latency_ms"] = timeout.count();
      d["error"] = "no answer within " + std::to_string(timeout.count()) + " ms";
    }
    if (d["status"] == "down" && checks[i].required) healthy = false;
    deps[checks[i].name] = d;
  }
  nlohmann::json stream = StreamHealth(stream_.View(), c.stream.max_lag_seconds);
  if (!stream.is_null()) {
    healthy = healthy && stream["status"] == "up";
    deps["stream"] = stream;
  }
  return {{{"status", healthy ? "ok" : "degraded"}, {"dependencies", deps}}, healthy};
}

nlohmann::json Service::DynamoTables() {
  return DescribeDynamoTargets(*clients_.dynamodb, mapping_);
}

Result<aws::Page> Service::DynamoItems(const std::string& name, int limit,
                                       const nlohmann::json& start) {
  return BrowseDynamoItems(*clients_.dynamodb, mapping_, name, limit, start);
}

std::string Service::RenderMetrics() {
  Metrics& m = Metrics::Global();
  for (const auto& [kind_state, n] : jobs_.Counts())
    m.Set("di_jobs", {{"kind", kind_state.first}, {"state", kind_state.second}}, n);
  auto stats = [&](const char* service, const std::shared_ptr<aws::AwsClient>& c) {
    if (!c) return;
    const auto& s = c->stats();
    m.Set("di_aws_requests_total", {{"service", service}}, static_cast<double>(s.attempts));
    m.Set("di_aws_retries_total", {{"service", service}}, static_cast<double>(s.retries));
    m.Set("di_aws_throttled_total", {{"service", service}}, static_cast<double>(s.throttled));
  };
  stats("s3", clients_.s3_transport);
  stats("dynamodb", clients_.dynamodb_transport);
  StreamMetrics(stream_.View(), m);
  return m.Render();
}

}  // namespace di
