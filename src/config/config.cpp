#include "config/config.h"

#include <arpa/inet.h>

#include <functional>

#include "config/validate.h"
#include "core/strings.h"
#include "scheduler/cron.h"

namespace di {
namespace {

enum class Secret { kNo, kFull, kUrl, kPartial };  // kPartial: first 4 characters shown

// Reads variables one at a time, collecting errors and display entries.
class Reader {
 public:
  explicit Reader(const Env& env, Config& cfg) : env_(env), cfg_(cfg) {}

  // The raw text (trimmed) or `def`; records the entry.
  std::string Text(const std::string& name, const std::string& def, Secret secret = Secret::kNo) {
    const Env::Var* v = env_.Find(name);
    std::string value = v ? std::string(Trim(v->value)) : def;
    std::string origin = !v ? "default" : v->origin == EnvOrigin::kDotEnv ? ".env" : "env";
    cfg_.entries.push_back({name, Display(value, secret), origin});
    return value;
  }

  // Text validated by `check` when non-empty (or always, when `allow_empty` is false).
  std::string Checked(const std::string& name, const std::string& def,
                      const std::function<Status(std::string_view)>& check,
                      Secret secret = Secret::kNo, bool allow_empty = true) {
    std::string value = Text(name, def, secret);
    if (value.empty() && allow_empty) return value;
    if (value.empty()) {
      Fail(name, "must not be empty");
      return def;
    }
    if (Status s = check(value); !s.ok()) Fail(name, s.message());
    return value;
  }

  int Int(const std::string& name, int def, int min, int max) {
    std::string value = Text(name, std::to_string(def));
    auto r = ParseIntInRange(value, min, max);
    if (!r.ok()) {
      Fail(name, r.status().message());
      return def;
    }
    return static_cast<int>(*r);
  }

  std::string Choice(const std::string& name, const std::string& def,
                     const std::vector<std::string>& allowed) {
    std::string value = Text(name, def);
    auto r = ParseChoice(value, allowed);
    if (!r.ok()) {
      Fail(name, r.status().message());
      return def;
    }
    return *r;
  }

  bool IsSet(const std::string& name) const { return env_.Find(name) != nullptr; }

  void Fail(const std::string& name, const std::string& why) {
    errors_.push_back(name + ": " + why);
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  static std::string Display(const std::string& value, Secret secret) {
    if (value.empty()) return "(unset)";
    switch (secret) {
      case Secret::kNo:
        return value;
      case Secret::kFull:
        return "****";
      case Secret::kUrl:
        return MaskUrlPassword(value);
      case Secret::kPartial:
        return value.substr(0, 4) + "****";
    }
    return value;
  }

  const Env& env_;
  Config& cfg_;
  std::vector<std::string> errors_;
};

Status CheckCron(std::string_view text) {
  return CronExpr::Parse(text).status();
}

// An IPv4 address in dotted form: what the API's listening socket accepts.
Status CheckIpv4(std::string_view text) {
  in_addr addr{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &addr) != 1)
    return InvalidArgument("'" + std::string(text) +
                           "' is not an IPv4 address; expected e.g. 0.0.0.0 or 127.0.0.1");
  return Status::Ok();
}

Status CheckHost(std::string_view host) {
  if (host.find_first_of(" /\t") != std::string_view::npos)
    return InvalidArgument("'" + std::string(host) + "' is not a host name or address");
  return Status::Ok();
}

void ReadAws(Reader& r, AwsSettings& a) {
  auto http = [](std::string_view v) { return ValidateUrl(v, {"http", "https"}); };
  a.access_key_id = r.Text("AWS_ACCESS_KEY_ID", "", Secret::kPartial);
  a.secret_access_key = r.Text("AWS_SECRET_ACCESS_KEY", "", Secret::kFull);
  a.session_token = r.Text("AWS_SESSION_TOKEN", "", Secret::kFull);
  a.region = r.Checked("AWS_REGION", "us-east-1", ValidateRegion, Secret::kNo, false);
  a.region_from_env = r.IsSet("AWS_REGION");
  a.profile = r.Text("AWS_PROFILE", "");
  a.endpoint_url = r.Checked("AWS_ENDPOINT_URL", "", http);
  a.endpoint_url_s3 = r.Checked("AWS_ENDPOINT_URL_S3", "", http);
  a.endpoint_url_dynamodb = r.Checked("AWS_ENDPOINT_URL_DYNAMODB", "", http);
  if (!a.access_key_id.empty() && a.secret_access_key.empty())
    r.Fail("AWS_SECRET_ACCESS_KEY", "must be set when AWS_ACCESS_KEY_ID is set");
  if (a.access_key_id.empty() && !a.secret_access_key.empty())
    r.Fail("AWS_ACCESS_KEY_ID", "must be set when AWS_SECRET_ACCESS_KEY is set");
}

void ReadS3(Reader& r, S3Settings& s) {
  s.bucket =
      r.Checked("S3_BUCKET_NAME", "cinema-data-bucket", ValidateBucketName, Secret::kNo, false);
  s.backup_folder = r.Checked("S3_BACKUP_FOLDER", "backups", ValidateFolder, Secret::kNo, false);
  s.analytics_folder =
      r.Checked("S3_ANALYTICS_FOLDER", "analytics", ValidateFolder, Secret::kNo, false);
  s.sse = r.Choice("S3_SSE", "AES256", {"AES256", "aws:kms", "none"});
  std::string c = r.Choice("COMPRESSION", "gzip", {"gzip", "zstd", "none"});
  s.compression = c == "zstd"   ? Compression::kZstd
                  : c == "none" ? Compression::kNone
                                : Compression::kGzip;
}

void ReadDynamo(Reader& r, DynamoSettings& d) {
  auto table = [&](const char* name, const char* def) {
    return r.Checked(name, def, ValidateDynamoTableName, Secret::kNo, false);
  };
  d.movies_table = table("DYNAMODB_MOVIES_TABLE", "cinema-movies");
  d.rooms_table = table("DYNAMODB_ROOMS_TABLE", "cinema-rooms");
  d.reservations_table = table("DYNAMODB_RESERVATIONS_TABLE", "cinema-reservations");
  d.users_table = table("DYNAMODB_USERS_TABLE", "cinema-users");
  d.state_table = table("DYNAMODB_STATE_TABLE", "cinema-ingestion-state");
}

void ReadSql(Reader& r, const std::string& prefix, SqlSettings& s) {
  s.host = r.Checked(prefix + "_HOST", s.host, CheckHost, Secret::kNo, false);
  s.port = r.Int(prefix + "_PORT", s.port, 1, 65535);
  s.user = r.Checked(
      prefix + "_USER", s.user, [](std::string_view) { return Status::Ok(); }, Secret::kNo, false);
  s.password = r.Text(prefix + "_PASSWORD", "", Secret::kFull);
  s.database = r.Checked(
      prefix + "_DATABASE", s.database, [](std::string_view) { return Status::Ok(); }, Secret::kNo,
      false);
}

// POSTGRES_SSLMODE / POSTGRES_SSLROOTCERT, MYSQL_SSL_MODE / MYSQL_SSL_CA.
void ReadSqlTls(Reader& r, const std::string& mode_var, const std::string& ca_var,
                const std::vector<std::string>& modes, SqlSettings& s) {
  s.ssl_mode = r.Choice(mode_var, s.ssl_mode, modes);
  s.ssl_ca = r.Checked(ca_var, "", ValidateReadableFile);
}

void CheckMySqlCaUsed(Reader& r, const SqlSettings& s) {
  if (Status st = CheckMySqlTlsPair(s, "MYSQL_SSL_MODE", "MYSQL_SSL_CA"); !st.ok())
    r.Fail("MYSQL_SSL_CA", st.message());
}

// The TLS files a URL's query names (tlsCAFile=, sslrootcert=, ...) must be readable, and
// its `mode_key` (libpq's sslmode) one of `modes`: refused at start, not at the first connect.
void CheckUrlTls(Reader& r, const std::string& name, const std::string& url,
                 const std::vector<std::string>& file_keys, const std::string& mode_key,
                 const std::vector<std::string>& modes) {
  for (const auto& [key, value] : UrlQuery(url)) {
    for (const auto& file_key : file_keys)
      if (ToLower(key) == ToLower(file_key))
        if (Status s = ValidateReadableFile(value); !s.ok())
          r.Fail(name, "option " + key + ": " + s.message());
    if (!mode_key.empty() && key == mode_key)
      if (auto m = ParseChoice(value, modes); !m.ok())
        r.Fail(name, "option " + key + ": " + m.status().message());
  }
}

void ReadMongo(Reader& r, MongoSettings& m) {
  m.uri = r.Checked(
      "MONGODB_URI", m.uri,
      [](std::string_view v) {
        return ValidateUrl(v, {"mongodb", "mongodb+srv"});
      },
      Secret::kUrl, false);
  // The database is the URI's path: mongodb://host:port/<db>?options
  size_t sep = m.uri.find("://");
  if (sep != std::string::npos) {
    size_t slash = m.uri.find('/', sep + 3);
    if (slash != std::string::npos) {
      std::string db = m.uri.substr(slash + 1);
      db = db.substr(0, db.find('?'));
      if (!db.empty()) m.database = db;
    }
  }
  CheckUrlTls(r, "MONGODB_URI", m.uri, {"tlsCAFile", "tlsCertificateKeyFile"}, "", {});
}

ProgressMode ParseProgress(const std::string& v) {
  if (v == "tty") return ProgressMode::kTty;
  if (v == "log") return ProgressMode::kLog;
  if (v == "off") return ProgressMode::kOff;
  return ProgressMode::kAuto;
}

}  // namespace

const std::vector<std::string>& PgSslModes() {
  static const std::vector<std::string> modes = {"disable", "allow",     "prefer",
                                                 "require", "verify-ca", "verify-full"};
  return modes;
}

const std::vector<std::string>& MySqlSslModes() {
  static const std::vector<std::string> modes = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                                 "VERIFY_IDENTITY"};
  return modes;
}

bool MySqlSslVerifies(const std::string& mode) {
  return mode == "VERIFY_CA" || mode == "VERIFY_IDENTITY";
}

// A CA file is only read by the modes that check the server's certificate: one given with
// another mode would look like a check that does not happen. VERIFY_CA has nothing to check
// the chain with but the file (Connector/C would not check it at all); VERIFY_IDENTITY
// without one uses the system's CAs.
Status CheckMySqlTlsPair(const SqlSettings& s, const std::string& mode_name,
                         const std::string& ca_name) {
  if (!s.ssl_ca.empty() && !MySqlSslVerifies(s.ssl_mode))
    return InvalidArgument("is set, but " + mode_name + "=" + s.ssl_mode +
                           " does not check the server's certificate; set " + mode_name +
                           " to VERIFY_CA or VERIFY_IDENTITY, or unset " + ca_name);
  if (s.ssl_ca.empty() && s.ssl_mode == "VERIFY_CA")
    return InvalidArgument("must name the CA file (PEM) when " + mode_name + "=VERIFY_CA");
  return Status::Ok();
}

std::string MaskUrlPassword(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return url;
  size_t at = url.find('@', sep + 3);
  size_t slash = url.find('/', sep + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', sep + 3);
  if (colon == std::string::npos || colon > at) return url;  // user only, no password
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

Result<Config> LoadConfig(const Env& env) {
  Config cfg;
  Reader r(env, cfg);
  ReadAws(r, cfg.aws);
  ReadS3(r, cfg.s3);
  ReadDynamo(r, cfg.dynamodb);
  ReadSql(r, "MYSQL", cfg.mysql);
  ReadSql(r, "POSTGRES", cfg.postgres);
  ReadSqlTls(r, "MYSQL_SSL_MODE", "MYSQL_SSL_CA", MySqlSslModes(), cfg.mysql);
  CheckMySqlCaUsed(r, cfg.mysql);
  ReadSqlTls(r, "POSTGRES_SSLMODE", "POSTGRES_SSLROOTCERT", PgSslModes(), cfg.postgres);
  ReadMongo(r, cfg.mongo);

  cfg.run.batch_size = r.Int("BATCH_SIZE", 1000, 1, 100000);
  cfg.run.max_retries = r.Int("MAX_RETRIES", 3, 0, 100);
  {
    std::string v = r.Text("RETRY_DELAY", "5");
    auto d = ParseDuration(v, std::chrono::minutes(10));
    if (d.ok())
      cfg.run.retry_delay = *d;
    else
      r.Fail("RETRY_DELAY", d.status().message());
  }
  cfg.run.workers = r.Int("WORKERS", 2, 1, 64);
  cfg.run.mapping_file = r.Checked("MAPPING_FILE", "", ValidateReadableFile);
  cfg.run.source_tz = r.Checked("SOURCE_TZ", "UTC", ValidateTimeZone, Secret::kNo, false);
  cfg.run.sync_deletes = r.Choice("SYNC_DELETES", "false", {"false", "true"}) == "true";

  cfg.stream.publication = r.Checked("STREAM_PUBLICATION", "data_ingestion",
                                     ValidateReplicationName, Secret::kNo, false);
  cfg.stream.slot =
      r.Checked("STREAM_SLOT", "data_ingestion", ValidateReplicationName, Secret::kNo, false);
  cfg.stream.max_lag_seconds = r.Int("STREAM_MAX_LAG_SECONDS", 60, 1, 86400);
  cfg.stream.change_log_seconds = r.Int("STREAM_CHANGE_LOG_SECONDS", 10, 0, 3600);

  cfg.schedule.backup = r.Checked("BACKUP_SCHEDULE", "0 2 * * *", CheckCron, Secret::kNo, false);
  cfg.schedule.sync = r.Checked("SYNC_SCHEDULE", "*/30 * * * *", CheckCron, Secret::kNo, false);
  cfg.schedule.tz = r.Checked("SCHEDULE_TZ", "UTC", ValidateTimeZone, Secret::kNo, false);
  cfg.schedule.redis_url = r.Checked(
      "REDIS_URL", "",
      [](std::string_view v) {
        return ValidateUrl(v, {"redis", "rediss"});
      },
      Secret::kUrl);

  cfg.log.level = r.Choice("LOG_LEVEL", "INFO",
                           {"TRACE", "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"});
  if (cfg.log.level == "WARN") cfg.log.level = "WARNING";
  cfg.log.file = r.Text("LOG_FILE", "data_ingestion.log");
  cfg.log.max_bytes = r.Int("LOG_MAX_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  cfg.log.backups = r.Int("LOG_BACKUPS", 5, 1, 100);
  cfg.log.format = r.Choice("LOG_FORMAT", "text", {"text", "json"}) == "json" ? LogFormat::kJson
                                                                              : LogFormat::kText;
  cfg.log.progress = ParseProgress(r.Choice("PROGRESS", "auto", {"auto", "tty", "log", "off"}));
  cfg.api_token = r.Text("API_TOKEN", "", Secret::kFull);
  cfg.api_host = r.Checked("API_HOST", "", CheckIpv4);
  cfg.analytics_database_url = r.Checked(
      "ANALYTICS_DATABASE_URL", "",
      [](std::string_view v) {
        return ValidateUrl(v, {"postgresql", "postgres"});
      },
      Secret::kUrl);
  CheckUrlTls(r, "ANALYTICS_DATABASE_URL", cfg.analytics_database_url,
              {"sslrootcert", "sslcert", "sslkey"}, "sslmode", PgSslModes());

  if (!r.errors().empty()) {
    std::string msg = "invalid configuration (" + std::to_string(r.errors().size()) +
                      (r.errors().size() == 1 ? " problem" : " problems") + "):";
    for (const auto& e : r.errors()) msg += "\n  " + e;
    return InvalidArgument(msg);
  }
  return cfg;
}

std::string FormatConfig(const Config& config) {
  size_t width = 0;
  for (const auto& e : config.entries) width = std::max(width, e.name.size());
  std::string out;
  for (const auto& e : config.entries) {
    out += e.name + std::string(width - e.name.size(), ' ') + " = " + e.display;
    out += "   (" + e.origin + ")\n";
  }
  return out;
}

}  // namespace di
