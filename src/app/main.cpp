// data-ingestion: modes and wiring, nothing else.
#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "aws/clients.h"
#include "config/config.h"
#include "config/env.h"
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
  return Fail(kExitFailed, "mode '" + opts.mode +
                               "' is not available in this build yet; available now: "
                               "setup, --print-config");
}
