// The command line: modes and their options (docs/configuration.md, Command-line options).
// Parsing only; main() wires the rest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace di {

enum class Mode {
  kNone,
  kApi,
  kMigrate,
  kBackup,
  kSync,
  kScheduler,
  kSetup,
  kVerify,
  kRestore,
  kStream
};
std::string ModeName(Mode mode);  // "migrate"; "" for kNone

struct CliOptions {
  Mode mode = Mode::kNone;  // kNone when only --print-config was asked
  int port = 3006;
  bool with_scheduler = false;
  // setup: also PostgreSQL's publication and replication slot; api: run the stream inside
  bool with_stream = false;
  // stream: stop once every change committed before the stream started is applied
  bool catch_up = false;
  bool print_config = false;
  std::string env_file = ".env";
  bool env_file_given = false;
  std::vector<std::string> tables;  // --table, repeatable
  std::string since;                // --since (ISO 8601), sync only
  // restore
  std::string source_db;
  std::string run_id;
  bool latest = false;
  std::string target_url;
  std::string target_table;
  std::string if_exists;
};

const std::vector<std::string>& KnownModes();  // the names of every mode but kNone

// Parses argv. `help` receives the --help text when asked (and the result is nullopt with an
// OK status in `out_status`); errors name the flag and what it accepts.
struct CliParse {
  std::optional<CliOptions> options;  // empty on --help or error
  Status status;                      // non-OK on error
  std::string help;                   // set on --help
};
CliParse ParseCommandLine(int argc, const char* const* argv);

}  // namespace di
