// data-ingestion: modes and wiring, nothing else.
#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "config/config.h"
#include "config/env.h"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "data-ingestion: %s\n", message.c_str());
  return code;
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
  return Fail(kExitFailed, "mode '" + opts.mode +
                               "' is not available in this build yet; available now: "
                               "--print-config");
}
