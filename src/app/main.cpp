// data-ingestion: modes and wiring, nothing else.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include <unistd.h>

#include "api/server.h"
#include "app/cli.h"
#include "app/job_progress.h"
#include "app/world.h"
#include "aws/clients.h"
#include "config/config.h"
#include "config/env.h"
#include "core/log.h"
#include "core/time_util.h"
#include "pipeline/restore.h"
#include "pipeline/run.h"
#include "pipeline/setup.h"
#include "pipeline/stream.h"
#include "pipeline/verify.h"
#include "scheduler/scheduler.h"
#include "sources/factory.h"

namespace {

// SIGTERM / SIGINT: stop taking work, let running tables stop at their next batch boundary
// (after its checkpoint), exit 0.
std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) {
  g_stop.store(true);
}

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

di::RunHooks StopHooks() {
  di::RunHooks h;
  h.stop = &g_stop;
  return h;
}

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "data-ingestion: %s\n", di::Redact(message).c_str());
  return code;
}

using Mapping = std::vector<di::TableMapping>;

int RunSetupMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
                 const Mapping& mapping) {
  auto clients = di::aws::MakeAwsClients(config, env);
  if (!clients.ok()) return Fail(kExitFailed, clients.status().message());
  auto report = di::RunSetup(config, mapping, *clients->s3, *clients->dynamodb);
  if (!report.ok()) return Fail(kExitFailed, "setup failed: " + report.status().message());
  if (opts.with_stream) {
    auto stream = di::RunStreamSetup(config, mapping);
    if (!stream.ok())
      return Fail(kExitFailed, "setup of change capture failed: " + stream.status().message());
    report->created.insert(report->created.end(), stream->created.begin(), stream->created.end());
    report->existed.insert(report->existed.end(), stream->existed.begin(), stream->existed.end());
  }
  for (const auto& n : report->notes) std::cout << "inferred       " << n << "\n";
  for (const auto& c : report->created) std::cout << "created        " << c << "\n";
  for (const auto& e : report->existed) std::cout << "already there  " << e << "\n";
  std::cout << "setup complete (credentials from " << clients->resolved.credentials_source
            << ", region " << clients->resolved.region << ")\n";
  return 0;
}

int Finish(const std::string& mode, const di::RunOutcome& outcome, di::ObjectStore& store) {
  std::cout << mode << " " << outcome.run_id << ": " << di::RunStateName(outcome.status) << ", "
            << outcome.report.value("total_records_migrated", int64_t{0}) << " rows from "
            << std::max(outcome.tables.size(), outcome.migrations.size()) << " tables; report "
            << (outcome.report_key.empty() ? "not written" : store.Describe(outcome.report_key))
            << "\n";
  if (outcome.status == di::RunState::kStopped) {
    std::cerr << "data-ingestion: " << mode << " stopped by a signal at a batch boundary"
              << (mode == "migrate" ? "; run it again to resume run " + outcome.run_id : "")
              << "\n";
    return 0;
  }
  if (outcome.status != di::RunState::kSuccess)
    return Fail(kExitFailed, mode + " " + di::RunStateName(outcome.status) + ": " +
                                 (!outcome.report_key.empty() ? "see the report for what failed"
                                  : !outcome.problems.empty()
                                      ? outcome.problems[0]
                                      : "each table's error is in the lines above (the report "
                                        "could not be written)"));
  return 0;
}

void Log(const std::string& line) {
  di::GetLogger("pipeline")->info(line);
}

int RunBackupMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
                  const Mapping& mapping) {
  auto app = di::AppWorld::Open(config, env, {});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  const di::RunWorld& world = (*app)->world();
  std::vector<std::string> problems;
  auto tables = di::SelectTables(
      world.sources, config.run.mapping_file.empty() ? nullptr : &mapping, opts.tables, &problems);
  if (!tables.ok()) return Fail(kExitUsage, tables.status().message());
  for (const auto& p : problems) std::cerr << "[backup] skipped: " << p << "\n";
  if (tables->empty()) return Fail(kExitFailed, "no table to back up");
  di::JobProgress progress(config, "backup");
  auto outcome = di::RunBackup(world, *tables, problems, Log, progress.With(StopHooks()));
  progress.End();
  return Finish("backup", outcome, world.store);
}

int RunSyncMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
                const Mapping& mapping) {
  std::optional<int64_t> since;
  if (!opts.since.empty()) {
    int64_t micros = 0;
    bool has_offset = false;
    if (!di::ParseSqlTimestamp(opts.since, &micros, &has_offset))
      return Fail(kExitUsage, "--since: '" + opts.since +
                                  "' is not an ISO 8601 time; expected e.g. 2024-01-01T00:00:00Z");
    since = micros;  // without an offset: UTC
  }
  // With a warehouse every mapped table syncs (into it); without, those mapped to DynamoDB.
  auto tables = di::PickMapped(mapping, opts.tables, config.analytics_database_url.empty());
  if (!tables.ok()) return Fail(kExitUsage, "--table: " + tables.status().message());
  auto app = di::AppWorld::Open(config, env, {.aws = true});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  const di::RunWorld& world = (*app)->world();
  di::JobProgress progress(config, "sync");
  auto outcome = di::RunSync(world, *tables, since, Log, progress.With(StopHooks()));
  progress.End();
  return Finish("sync", outcome, world.store);
}

// Follows the sources' change logs until SIGTERM/SIGINT (then exits 0, everything applied
// confirmed) or a problem no retry mends (exit 1, the fix named).
int RunStreamMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
                  const Mapping& mapping) {
  auto app = di::AppWorld::Open(config, env, {.aws = true});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  di::StreamOptions o;
  o.tables = opts.tables;
  o.stop = &g_stop;
  o.catch_up = opts.catch_up;
  // The crash tests' hook (docs/configuration.md, "Read outside the configuration"):
  // DI_STREAM_CRASH_AT=<batch>:<point> SIGKILLs the process at that point of that batch.
  if (const char* at = std::getenv("DI_STREAM_CRASH_AT")) {
    const std::string spec = at;
    const size_t colon = spec.find(':');
    const long batch = std::atol(spec.substr(0, colon).c_str());
    const std::string point = colon == std::string::npos ? "confirmed" : spec.substr(colon + 1);
    o.after = [batch, point](const std::string& p, int64_t n) {
      if (n == batch && p == point) ::kill(::getpid(), SIGKILL);
    };
  }
  auto s = di::RunStream((*app)->world(), mapping, o,
                         [](const std::string& line) { di::GetLogger("stream")->info(line); });
  if (!s.ok()) return Fail(kExitFailed, "stream: " + s.message());
  di::GetLogger("stream")->info(opts.catch_up && !g_stop
                                    ? "caught up; everything applied is confirmed to the source"
                                    : "stopped; everything applied is confirmed to the source");
  return 0;
}

int RunVerifyMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
                  const Mapping& mapping) {
  auto picked = di::PickMapped(mapping, opts.tables, false);
  if (!picked.ok()) return Fail(kExitUsage, "--table: " + picked.status().message());
  auto app = di::AppWorld::Open(config, env, {.aws = true});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  const di::RunWorld& world = (*app)->world();
  int bad = 0;
  for (const auto& m : *picked) {
    std::string name = m.Name();
    auto src = world.sources.Open(m.engine, m.database);
    auto info = src.ok() ? di::DescribeMapped(**src, m) : di::Result<di::TableInfo>(src.status());
    if (!info.ok()) {
      std::cout << "ERROR     " << name << ": " << info.status().message() << "\n";
      ++bad;
      continue;
    }
    auto r = di::VerifyTable(**src, *info, m.dynamodb, *world.dynamodb, world.store,
                             config.s3.backup_folder, static_cast<size_t>(config.run.batch_size));
    if (!r.status.ok()) {
      std::cout << "ERROR     " << name << ": " << r.status.message() << "\n";
      ++bad;
      continue;
    }
    std::cout << (r.ok() ? "OK        " : "MISMATCH  ") << name << ": source " << r.source_rows;
    if (r.dynamodb_items >= 0) std::cout << ", dynamodb " << r.dynamodb_items;
    if (r.backup_rows >= 0)
      std::cout << ", backup " << r.backup_run_id << " " << r.backup_rows;
    else
      std::cout << ", no complete backup";
    std::cout << "\n";
    for (const auto& mm : r.mismatches) std::cout << "          " << mm << "\n";
    if (r.mismatch_count > static_cast<int64_t>(r.mismatches.size()))
      std::cout << "          ... " << r.mismatch_count - static_cast<int64_t>(r.mismatches.size())
                << " more\n";
    if (!r.ok()) ++bad;
  }
  if (bad)
    return Fail(kExitFailed,
                "verify: " + std::to_string(bad) + " table(s) differ or could not be read");
  return 0;
}

int RunRestoreMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts) {
  if (opts.source_db.empty())
    return Fail(kExitUsage, "--source-db: name the backup's engine (mysql, postgresql or mongodb)");
  auto engine = di::ParseEngine(opts.source_db);
  if (!engine.ok()) return Fail(kExitUsage, "--source-db: " + engine.status().message());
  if (opts.tables.size() != 1)
    return Fail(kExitUsage, "--table: name exactly one table to restore");
  if (opts.run_id.empty() == !opts.latest)
    return Fail(kExitUsage, opts.latest ? "--run-id and --latest: give one of them, not both"
                                        : "--run-id R or --latest: say which backup to restore");
  auto if_exists = di::ParseIfExists(opts.if_exists);
  if (!if_exists.ok()) return Fail(kExitUsage, if_exists.status().message());
  auto app = di::AppWorld::Open(config, env, {});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  di::RestoreOptions o;
  o.engine = *engine;
  o.table = opts.tables[0];
  o.run_id = opts.run_id;
  o.target_url = opts.target_url;
  o.target_table = opts.target_table;
  o.if_exists = *if_exists;
  o.batch_size = static_cast<size_t>(config.run.batch_size);
  di::JobProgress progress(config, "restore");
  const std::string name = di::EngineName(o.engine) + "." + o.table;
  if (auto* d = progress.display())
    o.on_progress = [d, name](int64_t rows, int64_t total) {
      d->Begin(name, total);
      d->Update(name, rows);
    };
  auto r = di::RunRestore(config, (*app)->store(), o, Log);
  if (auto* d = progress.display())
    d->Finish(name, r.ok() ? di::TableEnd::kDone : di::TableEnd::kFailed, r.ok() ? r->rows : -1,
              r.ok() ? "" : r.status().message());
  progress.End();
  if (!r.ok()) return Fail(kExitFailed, "restore failed: " + r.status().message());
  for (const auto& w : r->warnings) std::cerr << "[restore] warning: " << w << "\n";
  std::cout << "restore " << r->run_id << ": " << r->rows << " rows from " << r->parts
            << (r->parts == 1 ? " part" : " parts") << " into " << r->target << " in "
            << std::to_string(r->seconds).substr(0, 5) << "s\n";
  return 0;
}

// The scheduler's two jobs: a backup of every table and a sync of the mapped tables.
std::vector<di::ScheduledJob> ScheduledJobs(const di::Config& config,
                                            const std::function<void()>& backup,
                                            const std::function<void()>& sync) {
  std::vector<di::ScheduledJob> jobs;
  jobs.push_back(
      {"backup", *di::CronExpr::Parse(config.schedule.backup), [backup](int64_t) { backup(); }});
  jobs.push_back({"sync", *di::CronExpr::Parse(config.schedule.sync), [sync](int64_t) { sync(); }});
  return jobs;
}

di::Result<std::unique_ptr<di::Coordinator>> MakeCoordinator(const di::Config& config) {
  if (config.schedule.redis_url.empty()) {
    di::GetLogger("scheduler")
        ->warn(
            "REDIS_URL is not set: this instance schedules alone (no lock shared with "
            "other instances, no catch-up of firings missed while down)");
    return di::MakeLocalCoordinator();
  }
  return di::MakeRedisCoordinator(config.schedule.redis_url);
}

void RunScheduler(const di::Config& config, di::Coordinator& coordinator,
                  std::vector<di::ScheduledJob> jobs) {
  auto tz = di::TimeZone::Load(config.schedule.tz);
  auto logger = di::GetLogger("scheduler");
  di::Scheduler scheduler(std::move(jobs), tz.ok() ? *tz : di::TimeZone::Utc(), di::SystemClock(),
                          coordinator, [logger](const std::string& l) { logger->info(l); });
  scheduler.Run(g_stop);
}

int RunSchedulerMode(const di::Config& config, const di::Env& env, const Mapping& mapping) {
  InstallStopHandlers();
  auto app = di::AppWorld::Open(config, env, {.aws = true});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  const di::RunWorld& world = (*app)->world();
  auto coordinator = MakeCoordinator(config);
  if (!coordinator.ok()) return Fail(kExitFailed, coordinator.status().message());
  auto backup = [&] {
    std::vector<std::string> problems;
    auto tables = di::SelectTables(
        world.sources, config.run.mapping_file.empty() ? nullptr : &mapping, {}, &problems);
    if (!tables.ok()) return Log("[scheduler] backup: " + tables.status().message());
    di::RunBackup(world, *tables, problems, Log, StopHooks());
  };
  auto sync = [&] {
    auto tables = di::PickMapped(mapping, {}, config.analytics_database_url.empty());
    if (!tables.ok()) return Log("[scheduler] sync: " + tables.status().message());
    di::RunSync(world, *tables, std::nullopt, Log, StopHooks());
  };
  RunScheduler(config, **coordinator, ScheduledJobs(config, backup, sync));
  di::GetLogger("scheduler")->info("stopped");
  return 0;
}

int RunApiMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts,
               const Mapping& mapping) {
  InstallStopHandlers();
  // The API starts even when the bucket is missing: /health says so.
  auto app = di::AppWorld::Open(config, env, {.aws = true, .bucket_exists = false});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  di::JobManager jobs;
  di::Service service(mapping, (*app)->world(), *(*app)->clients(), jobs);
  di::ApiServer server(service);
  auto logger = di::GetLogger("api");
  if (auto s = server.Bind(opts.port); !s.ok()) return Fail(kExitFailed, s.message());
  if (config.api_token.empty() && config.api_host.empty())
    logger->warn(
        "API_TOKEN is not set: listening on 127.0.0.1 only (set API_TOKEN to accept "
        "other hosts; every endpoint but /health, /metrics and /openapi.json then needs "
        "Authorization: Bearer <token>)");
  else if (config.api_token.empty() && !config.api_host.starts_with("127."))
    logger->warn(
        "API_TOKEN is not set and API_HOST is {}: anyone who reaches port {} can start and "
        "stop jobs without authentication; set API_TOKEN unless only trusted hosts reach it",
        config.api_host, opts.port);
  logger->info("listening on http://{}:{} (OpenAPI at /openapi.json)", server.host(), opts.port);
  std::thread serve([&] {
    if (auto s = server.ServeBound(); !s.ok()) logger->error(s.message());
  });
  std::unique_ptr<di::Coordinator> coordinator;
  std::thread scheduler;
  if (opts.with_scheduler) {
    auto c = MakeCoordinator(config);
    if (!c.ok()) {
      server.Stop();
      serve.join();
      return Fail(kExitFailed, c.status().message());
    }
    coordinator = std::move(*c);
    auto submit = [logger](const char* what, const di::Result<std::string>& id) {
      if (id.ok())
        logger->info("scheduler started {} job {}", what, *id);
      else
        logger->warn("scheduler could not start {}: {}", what, id.status().message());
    };
    scheduler = std::thread([&, submit] {
      RunScheduler(config, *coordinator,
                   ScheduledJobs(
                       config, [&] { submit("backup", service.StartBackup({})); },
                       [&] { submit("sync", service.StartSync({}, std::nullopt)); }));
    });
  }
  if (opts.with_stream) {
    if (auto s = service.stream().Start(); !s.ok()) logger->error("stream: {}", s.message());
  }
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  logger->info("stopping: no new requests or jobs; running jobs stop at their next batch");
  if (service.stream().Stop())
    logger->info("stream stopped; everything applied is confirmed to the source");
  server.Stop();
  serve.join();
  if (scheduler.joinable()) scheduler.join();
  jobs.Shutdown();
  logger->info("stopped");
  return 0;
}

int RunMigrateMode(const di::Config& config, const di::Env& env, const Mapping& mapping) {
  auto app = di::AppWorld::Open(config, env, {.aws = true});
  if (!app.ok()) return Fail(kExitFailed, app.status().message());
  const di::RunWorld& world = (*app)->world();
  di::JobProgress progress(config, "migrate");
  auto outcome = di::RunMigrate(world, mapping, Log, progress.With(StopHooks()));
  progress.End();
  return Finish("migrate", outcome, world.store);
}

}  // namespace

int main(int argc, char** argv) {
  di::CliParse cli = di::ParseCommandLine(argc, argv);
  if (!cli.help.empty()) {
    std::cout << cli.help;
    return 0;
  }
  if (!cli.status.ok()) return Fail(kExitUsage, cli.status.message());
  const di::CliOptions& opts = *cli.options;

  auto env = di::Env::FromProcess(opts.env_file, opts.env_file_given);
  if (!env.ok()) return Fail(kExitUsage, env.status().message());
  auto config = di::LoadConfig(*env);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());

  if (auto s = di::InitLogging(*config); !s.ok()) return Fail(kExitUsage, s.message());
  if (opts.print_config) {
    std::cout << di::FormatConfig(*config);
    if (opts.mode == di::Mode::kNone) return 0;
  }
  auto mapping = di::LoadMapping(*config);
  if (!mapping.ok()) return Fail(kExitUsage, mapping.status().message());
  using di::Mode;
  const Mode mode = opts.mode;
  if (!config->run.mapping_file.empty() && mode != Mode::kApi && mode != Mode::kScheduler &&
      mode != Mode::kRestore) {
    // A file's tables and columns are checked against the databases before any work.
    di::Status s = di::CheckMappingAgainstSources(*config, *mapping);
    if (!s.ok())
      return Fail(kExitUsage, "MAPPING_FILE " + config->run.mapping_file + ": " + s.message());
  }
  if (!opts.tables.empty() && mode != Mode::kBackup && mode != Mode::kSync &&
      mode != Mode::kVerify && mode != Mode::kRestore && mode != Mode::kStream)
    return Fail(kExitUsage,
                "--table applies to --mode backup, sync, verify, restore and stream; --mode " +
                    di::ModeName(mode) +
                    " runs every mapped table (choose them with MAPPING_FILE)");
  if (opts.catch_up && mode != Mode::kStream)
    return Fail(kExitUsage, "--catch-up applies to --mode stream only");
  switch (mode) {
    case Mode::kSetup:
      return RunSetupMode(*config, *env, opts, *mapping);
    case Mode::kBackup:
      InstallStopHandlers();
      return RunBackupMode(*config, *env, opts, *mapping);
    case Mode::kMigrate:
      InstallStopHandlers();
      return RunMigrateMode(*config, *env, *mapping);
    case Mode::kSync:
      InstallStopHandlers();
      return RunSyncMode(*config, *env, opts, *mapping);
    case Mode::kVerify:
      return RunVerifyMode(*config, *env, opts, *mapping);
    case Mode::kRestore:
      return RunRestoreMode(*config, *env, opts);
    case Mode::kApi:
      return RunApiMode(*config, *env, opts, *mapping);
    case Mode::kScheduler:
      return RunSchedulerMode(*config, *env, *mapping);
    case Mode::kStream:
      InstallStopHandlers();
      return RunStreamMode(*config, *env, opts, *mapping);
    case Mode::kNone:
      break;
  }
  return Fail(kExitUsage, "--mode is required (see --help)");
}
