// data-ingestion: modes and wiring, nothing else.
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/cli.h"
#include "aws/clients.h"
#include "config/config.h"
#include "config/env.h"
#include "pipeline/run.h"
#include "pipeline/setup.h"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "data-ingestion: %s\n", message.c_str());
  return code;
}

int RunSetupMode(const di::Config& config, const di::Env& env) {
  auto clients = di::aws::MakeAwsClients(config, env);
  if (!clients.ok()) return Fail(kExitFailed, clients.status().message());
  auto report = di::RunSetup(config, *clients->s3, *clients->dynamodb);
  if (!report.ok()) return Fail(kExitFailed, "setup failed: " + report.status().message());
  for (const auto& c : report->created) std::cout << "created        " << c << "\n";
  for (const auto& e : report->existed) std::cout << "already there  " << e << "\n";
  std::cout << "setup complete (credentials from " << clients->resolved.credentials_source
            << ", region " << clients->resolved.region << ")\n";
  return 0;
}

int RunBackupMode(const di::Config& config, const di::Env& env, const di::CliOptions& opts) {
  std::optional<di::aws::AwsClients> clients;
  std::unique_ptr<di::ObjectStore> store;
  if (config.s3.is_local()) {
    store = di::MakeLocalStore(config.s3.local_path());
  } else {
    auto c = di::aws::MakeAwsClients(config, env);
    if (!c.ok()) return Fail(kExitFailed, c.status().message());
    clients = std::move(*c);
    auto exists = clients->s3->BucketExists(config.s3.bucket);
    if (!exists.ok()) return Fail(kExitFailed, exists.status().message());
    if (!*exists)
      return Fail(kExitFailed,
                  "S3 bucket '" + config.s3.bucket +
                      "' does not exist. Run `data-ingestion --mode setup` to create it");
    store = di::MakeS3Store(*clients->s3, config.s3.bucket, config.s3.sse);
  }
  std::vector<std::string> problems;
  auto tables = di::SelectTables(config, opts.tables, &problems);
  if (!tables.ok()) return Fail(kExitUsage, tables.status().message());
  for (const auto& p : problems) std::cerr << "[backup] skipped: " << p << "\n";
  if (tables->empty()) return Fail(kExitFailed, "no table to back up");
  auto outcome = di::RunBackup(config, *tables, *store, problems,
                               [](const std::string& line) { std::cerr << line << "\n"; });
  std::cout << "backup " << outcome.run_id << ": " << outcome.status << ", "
            << outcome.report["total_records_migrated"].get<int64_t>() << " rows from "
            << outcome.tables.size() << " tables; report "
            << (outcome.report_key.empty() ? "not written" : store->Describe(outcome.report_key))
            << "\n";
  if (outcome.status != "SUCCESS")
    return Fail(kExitFailed,
                "backup " + outcome.status + ": see the report for the tables that failed");
  return 0;
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

  if (opts.print_config) {
    std::cout << di::FormatConfig(*config);
    if (opts.mode.empty()) return 0;
  }
  if (opts.mode == "setup") return RunSetupMode(*config, *env);
  if (opts.mode == "backup") return RunBackupMode(*config, *env, opts);
  return Fail(kExitFailed, "mode '" + opts.mode +
                               "' is not available in this build yet; available now: "
                               "setup, backup, --print-config");
}
