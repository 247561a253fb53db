// Restore's orchestration (pipeline/restore.h): the options and --target-url, the checks
// made before anything is written (every part listed, the target table's columns and rows),
// then the load, part by part, into the engine's database sink. The backup read is in
// restore_backup.cpp, each engine's writer is its sink (sinks/database_sink.h).
#include "pipeline/restore.h"

#include <chrono>
#include <map>
#include <memory>

#include "config/validate.h"
#include "core/strings.h"
#include "pipeline/restore_internal.h"

namespace di {
namespace {

using restore_internal::Manifest;
using restore_internal::OJ;
using restore_internal::Say;

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// --target-url's TLS options (postgresql: libpq's sslmode and sslrootcert; mysql: ssl-mode and
// ssl-ca with MYSQL_SSL_MODE's values). A URL with any of them takes its TLS settings from
// the URL alone (a missing one its default); without them the target keeps the environment's.
Status ApplyUrlTls(const std::string& url, bool mysql, SqlSettings& s) {
  const std::string mode_key = mysql ? "ssl-mode" : "sslmode";
  const std::string ca_key = mysql ? "ssl-ca" : "sslrootcert";
  auto query = UrlQuery(url);
  if (query.empty()) return Status::Ok();
  s.ssl_mode = mysql ? "PREFERRED" : "prefer";
  s.ssl_ca.clear();
  for (const auto& [key, value] : query) {
    std::string where = "--target-url: option " + key;
    if (key == mode_key) {
      auto mode = ParseChoice(value, mysql ? MySqlSslModes() : PgSslModes());
      if (!mode.ok()) return InvalidArgument(where + ": " + mode.status().message());
      s.ssl_mode = *mode;
    } else if (key == ca_key) {
      if (Status file = ValidateReadableFile(value); !file.ok())
        return InvalidArgument(where + ": " + file.message());
      s.ssl_ca = value;
    } else {
      return InvalidArgument(where + " is not known; accepted: " + mode_key + ", " + ca_key);
    }
  }
  if (Status pair = mysql ? CheckMySqlTlsPair(s, "ssl-mode", "ssl-ca") : Status::Ok(); !pair.ok())
    return InvalidArgument("--target-url: option ssl-ca " + pair.message());
  return Status::Ok();
}

// --target-url -> the engine's connection settings.
Result<SqlSettings> ParseSqlUrl(const std::string& url, SqlSettings base, const char* scheme) {
  std::string prefix = std::string(scheme) + "://";
  if (!StartsWith(url, prefix))
    return InvalidArgument("--target-url: '" + MaskUrlPassword(url) + "' should start with " +
                           prefix);
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  base.database = slash == std::string::npos ? base.database : rest.substr(slash + 1);
  size_t q = base.database.find('?');
  if (q != std::string::npos) base.database = base.database.substr(0, q);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    base.user = userinfo.substr(0, colon);
    base.password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
  }
  size_t colon = authority.rfind(':');
  base.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    auto port = ParseInt64(authority.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return InvalidArgument("--target-url: the port of '" + MaskUrlPassword(url) +
                             "' is not a number from 1 to 65535");
    base.port = static_cast<int>(*port);
  }
  if (base.database.empty())
    return InvalidArgument("--target-url: '" + MaskUrlPassword(url) + "' names no database");
  RETURN_IF_ERROR(ApplyUrlTls(url, std::string(scheme) == "mysql", base));
  return base;
}

Result<std::unique_ptr<DatabaseSink>> OpenSink(const Config& config, const RestoreOptions& o,
                                               const std::string& table) {
  ASSIGN_OR_RETURN(auto tz, TimeZone::Load(config.run.source_tz));
  if (o.engine == Engine::kMySql) {
    SqlSettings s = config.mysql;
    if (!o.target_url.empty()) {
      std::string url = o.target_url;
      if (StartsWith(url, "mariadb://")) url = "mysql://" + url.substr(10);
      ASSIGN_OR_RETURN(s, ParseSqlUrl(url, s, "mysql"));
    }
    return ConnectMySqlSink(s, table, tz);
  }
  if (o.engine == Engine::kPostgres) {
    SqlSettings s = config.postgres;
    if (!o.target_url.empty()) {
      std::string url = o.target_url;
      if (StartsWith(url, "postgres://")) url = "postgresql://" + url.substr(11);
      ASSIGN_OR_RETURN(s, ParseSqlUrl(url, s, "postgresql"));
    }
    return ConnectPostgresSink(s, table, tz);
  }
  MongoSettings s = config.mongo;
  if (!o.target_url.empty()) {
    if (!StartsWith(o.target_url, "mongodb://") && !StartsWith(o.target_url, "mongodb+srv://"))
      return InvalidArgument("--target-url: '" + MaskUrlPassword(o.target_url) +
                             "' should start with mongodb://");
    s.uri = o.target_url;
    std::string rest = o.target_url.substr(o.target_url.find("://") + 3);
    size_t slash = rest.find('/');
    std::string db = slash == std::string::npos ? "" : rest.substr(slash + 1);
    db = db.substr(0, db.find('?'));
    if (db.empty())
      return InvalidArgument("--target-url: '" + MaskUrlPassword(o.target_url) +
                             "' names no database (mongodb://host:27017/<database>)");
    s.database = db;
  }
  return ConnectMongoSink(s, table);
}

// 1. Every part present (one listing) before anything is written; their bytes are checked
// against the manifest's sha256 as they stream in (LoadParts).
Status CheckPartsListed(ObjectStore& store, const Manifest& m, const OJ& parts,
                        const std::string& run_id) {
  std::string folder = m.key.substr(0, m.key.size() - std::string("manifest.json").size());
  ASSIGN_OR_RETURN(auto listed, store.List(folder));
  std::map<std::string, uint64_t> sizes;
  for (const auto& l : listed) sizes[l.key] = l.size;
  for (const auto& p : parts) {
    std::string key = p.value("key", "");
    auto it = sizes.find(key);
    if (it == sizes.end())
      return NotFound("backup " + run_id + " is missing part " + store.Describe(key) +
                      " (no such object); nothing was restored");
    if (p.contains("bytes") && it->second != p.value("bytes", uint64_t{0}))
      return Corruption("part " + store.Describe(key) + " holds " + std::to_string(it->second) +
                        " bytes, not the " + std::to_string(p.value("bytes", uint64_t{0})) +
                        " of the manifest (it does not match its sha256 either: corrupted); "
                        "nothing was restored");
  }
  return Status::Ok();
}

// 2. The target table: created when missing; an existing one is checked against the options
// and the backup (its columns; its rows unless appending).
Result<LoadMode> CheckTargetTable(DatabaseSink& target, const Manifest& m,
                                  const RestoreOptions& o) {
  ASSIGN_OR_RETURN(auto existing, target.Columns());
  LoadMode mode{!existing.has_value(), false};
  if (existing) {
    if (o.if_exists == IfExists::kFail)
      return AlreadyExists(target.name() + " exists (--if-exists fail); nothing was restored");
    if (o.if_exists == IfExists::kReplace) {
      mode.replace = true;
    } else {
      if (o.engine != Engine::kMongo) {
        std::vector<std::string> want;
        for (const auto& c : m.table.columns) want.push_back(c.name);
        if (*existing != want)
          return AlreadyExists(target.name() + " exists with other columns (" +
                               Join(*existing, ", ") + ") than the backup (" + Join(want, ", ") +
                               "); restore with --target-table NEW_NAME or --if-exists replace");
      }
      ASSIGN_OR_RETURN(bool rows, target.HasRows());
      if (rows && o.if_exists != IfExists::kAppend)
        return AlreadyExists(target.name() +
                             " is not empty; restore with --if-exists append (add the rows), "
                             "--if-exists replace (replace the table) or --target-table");
    }
  }
  return mode;
}

// 3. Load, part by part as it streams in, a batch at a time; a part that does not match its
// sha256 (or does not decode) fails the load before Finish, and the sink, destroyed
// unfinished, undoes it. A sink that cannot undo a load that fails midway (MongoDB appending
// to an existing collection) has every part read and verified once before the first write.
Status LoadParts(ObjectStore& store, const Manifest& m, const OJ& parts, const RestoreOptions& o,
                 DatabaseSink& sink, LoadMode mode, RestoreResult* result, const Say& say) {
  uint64_t sequence = 0;
  if (!sink.AllOrNothing(mode)) {
    for (const auto& p : parts)
      RETURN_IF_ERROR(restore_internal::ReadPart(store, m, p, o, nullptr, &sequence, result));
    say("[restore] " + std::to_string(parts.size()) + " part(s) verified before appending");
  }
  sink.SetLoad(mode);
  RETURN_IF_ERROR(sink.Open(m.table, LogPosition()));
  for (const auto& p : parts) {
    RETURN_IF_ERROR(restore_internal::ReadPart(store, m, p, o, &sink, &sequence, result));
    result->parts++;
    say("[restore] part " + std::to_string(result->parts) + "/" + std::to_string(parts.size()) +
        ": " + std::to_string(result->rows) + " rows so far");
  }
  return sink.Finish();
}

}  // namespace

Result<IfExists> ParseIfExists(const std::string& s) {
  if (s.empty()) return IfExists::kUnset;
  if (s == "fail") return IfExists::kFail;
  if (s == "replace") return IfExists::kReplace;
  if (s == "append") return IfExists::kAppend;
  return InvalidArgument("--if-exists: '" + s +
                         "' is not accepted; expected fail, replace or append");
}

Result<RestoreResult> RunRestore(const Config& config, ObjectStore& store, const RestoreOptions& o,
                                 const Say& say) {
  auto t0 = std::chrono::steady_clock::now();
  if (o.table.empty()) return InvalidArgument("--table: name the table to restore");
  ASSIGN_OR_RETURN(Manifest m, restore_internal::FindManifest(store, config, o));
  RestoreResult result;
  result.run_id = m.doc.value("run_id", "");
  if (m.doc.value("engine", "") != EngineName(o.engine))
    return InvalidArgument("backup " + store.Describe(m.key) + " is of " +
                           m.doc.value("engine", "?") + ", not " + EngineName(o.engine));

  const auto& parts = m.doc["parts"];
  RETURN_IF_ERROR(CheckPartsListed(store, m, parts, result.run_id));
  say("[restore] " + store.Describe(m.key) + ": " + std::to_string(parts.size()) + " part(s), " +
      std::to_string(m.doc.value("row_count", int64_t{0})) + " rows");
  if (o.on_progress) o.on_progress(0, m.doc.value("row_count", int64_t{0}));

  std::string table = o.target_table.empty() ? o.table : o.target_table;
  ASSIGN_OR_RETURN(auto sink, OpenSink(config, o, table));
  result.target = sink->name();
  ASSIGN_OR_RETURN(LoadMode mode, CheckTargetTable(*sink, m, o));
  RETURN_IF_ERROR(LoadParts(store, m, parts, o, *sink, mode, &result, say));
  result.warnings = sink->warnings();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace di
