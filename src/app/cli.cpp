#include "app/cli.h"

#include <CLI/CLI.hpp>

#include "config/validate.h"
#include "core/strings.h"

namespace di {

namespace {
constexpr Mode kModes[] = {Mode::kApi,    Mode::kMigrate,   Mode::kBackup,
                           Mode::kSync,   Mode::kScheduler, Mode::kSetup,
                           Mode::kVerify, Mode::kRestore,   Mode::kStream};
}  // namespace

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kApi:
      return "api";
    case Mode::kMigrate:
      return "migrate";
    case Mode::kBackup:
      return "backup";
    case Mode::kSync:
      return "sync";
    case Mode::kScheduler:
      return "scheduler";
    case Mode::kSetup:
      return "setup";
    case Mode::kVerify:
      return "verify";
    case Mode::kRestore:
      return "restore";
    case Mode::kStream:
      return "stream";
    case Mode::kNone:
      break;
  }
  return "";
}

const std::vector<std::string>& KnownModes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (Mode m : kModes) v.push_back(ModeName(m));
    return v;
  }();
  return names;
}

CliParse ParseCommandLine(int argc, const char* const* argv) {
  CliParse out;
  CliOptions o;
  std::string port_text;
  CLI::App app{
      "data-ingestion: moves the cinema databases (MySQL/MariaDB, PostgreSQL, MongoDB) into "
      "AWS — backups in S3, tables in DynamoDB, an optional PostgreSQL warehouse.",
      "data-ingestion"};
  app.set_help_flag("-h,--help", "Show this help and exit");
  std::string mode;
  app.add_option("--mode", mode, "One of: " + JoinHuman(KnownModes(), ", "));
  app.add_option("--port", port_text, "API port (default 3006)");
  app.add_flag("--with-scheduler", o.with_scheduler, "api mode: also run the cron scheduler");
  app.add_flag("--with-stream", o.with_stream,
               "setup: also set up PostgreSQL change capture (the publication and a permanent "
               "replication slot, whose WAL the server keeps until a stream reads it); api: "
               "also run the change stream (--mode stream) inside the service");
  app.add_flag("--catch-up", o.catch_up,
               "stream: apply every change committed before the stream started, confirm it, "
               "and exit 0 (a stream run as a batch, e.g. from cron)");
  app.add_flag("--print-config", o.print_config,
               "Print the effective configuration (secrets masked) and exit");
  app.add_option("--env-file", o.env_file, "Read variables from this file (default ./.env)");
  app.add_option("--table", o.tables,
                 "backup/sync/verify/restore/stream: only this table (repeatable)");
  app.add_option("--since", o.since, "sync: rows changed after this ISO 8601 time");
  app.add_option("--source-db", o.source_db, "restore: mysql, postgresql or mongodb");
  app.add_option("--run-id", o.run_id, "restore: the backup run to restore");
  app.add_flag("--latest", o.latest, "restore: the newest complete backup");
  app.add_option("--target-url", o.target_url, "restore: database URL to restore into");
  app.add_option("--target-table", o.target_table, "restore: table name to restore into");
  app.add_option("--if-exists", o.if_exists, "restore: fail, replace or append");
  app.footer(
      "Configuration comes from environment variables and ./.env (see README.md).\n"
      "Exit codes: 0 success; 1 the job failed or was partial; 2 bad usage or configuration.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.help = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.status = InvalidArgument(std::string(e.what()) + " (see --help)");
    return out;
  }
  o.env_file_given = app.count("--env-file") > 0;
  if (!port_text.empty()) {
    auto p = ParseIntInRange(port_text, 1, 65535);
    if (!p.ok()) {
      out.status = InvalidArgument("--port: " + p.status().message());
      return out;
    }
    o.port = static_cast<int>(*p);
  }
  if (mode.empty() && !o.print_config) {
    out.status = InvalidArgument("--mode is required; expected " + JoinHuman(KnownModes()) +
                                 " (see --help)");
    return out;
  }
  if (!mode.empty()) {
    auto m = ParseChoice(mode, KnownModes());
    if (!m.ok()) {
      out.status = InvalidArgument("--mode: " + m.status().message());
      return out;
    }
    for (Mode k : kModes)
      if (ModeName(k) == *m) o.mode = k;
  }
  if (!o.if_exists.empty()) {
    auto m = ParseChoice(o.if_exists, {"fail", "replace", "append"});
    if (!m.ok()) {
      out.status = InvalidArgument("--if-exists: " + m.status().message());
      return out;
    }
    o.if_exists = *m;
  }
  out.options = std::move(o);
  return out;
}

}  // namespace di
