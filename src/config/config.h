// Config: the service's typed configuration, read once at start from the environment and
// `.env` (docs/configuration.md) and validated as a whole. A bad value is refused with the
// variable's name and what is accepted; every problem is reported at once, not only the first.
// Plain data after loading; copy it or share it const.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/env.h"
#include "core/status.h"

namespace di {

enum class Compression { kGzip, kZstd, kNone };
enum class LogFormat { kText, kJson };
// PROGRESS: how the CLI's long jobs show their progress (core/progress_display.h).
enum class ProgressMode { kAuto, kTty, kLog, kOff };

struct AwsSettings {
  std::string access_key_id;      // may be empty: the credentials chain looks further
  std::string secret_access_key;  // secret
  std::string session_token;      // secret
  std::string region = "us-east-1";
  bool region_from_env = false;  // AWS_REGION set: it wins over the profile's region
  std::string profile;
  std::string endpoint_url;  // AWS_ENDPOINT_URL; empty means AWS itself
  std::string endpoint_url_s3;
  std::string endpoint_url_dynamodb;
};

struct S3Settings {
  std::string bucket = "cinema-data-bucket";  // or file:///path for a local location
  std::string backup_folder = "backups";
  std::string analytics_folder = "analytics";
  std::string sse = "AES256";  // AES256 | aws:kms | none
  Compression compression = Compression::kGzip;
  bool is_local() const { return bucket.rfind("file://", 0) == 0; }
  std::string local_path() const { return is_local() ? bucket.substr(7) : std::string(); }
};

struct DynamoSettings {
  std::string movies_table = "cinema-movies";
  std::string rooms_table = "cinema-rooms";
  std::string reservations_table = "cinema-reservations";
  std::string users_table = "cinema-users";
  std::string state_table = "cinema-ingestion-state";
};

struct SqlSettings {
  std::string host;
  int port = 0;
  std::string user;
  std::string password;  // secret
  std::string database;
  // TLS (docs/configuration.md#tls). PostgreSQL: libpq's sslmode (disable | allow | prefer |
  // require | verify-ca | verify-full) and sslrootcert; MySQL: DISABLED | PREFERRED |
  // REQUIRED | VERIFY_CA | VERIFY_IDENTITY and the CA file the two VERIFY_ modes check with.
  // Empty ssl_ca: none given (libpq then looks for ~/.postgresql/root.crt).
  std::string ssl_mode;
  std::string ssl_ca;
};

// The TLS modes each engine accepts, in their canonical spelling (SPEC §3).
const std::vector<std::string>& PgSslModes();
const std::vector<std::string>& MySqlSslModes();
// Whether a MySQL mode checks the server's certificate (VERIFY_CA, VERIFY_IDENTITY).
bool MySqlSslVerifies(const std::string& mode);
// The MySQL CA file with its mode: refused when given to a mode that does not read it, or
// missing for VERIFY_CA. The message (without the CA's name in front) names `mode_name`.
Status CheckMySqlTlsPair(const SqlSettings& s, const std::string& mode_name,
                         const std::string& ca_name);

struct MongoSettings {
  std::string uri = "mongodb://localhost:27017/cinema_movies";  // may hold a password
  std::string database = "cinema_movies";                       // from the URI's path
};

struct RunSettings {
  int batch_size = 1000;
  int max_retries = 3;
  std::chrono::milliseconds retry_delay{5000};
  int workers = 2;
  std::string mapping_file;  // empty: the built-in cinema mapping
  std::string source_tz = "UTC";
  // SYNC_DELETES: sync also deletes from each target what the source no longer has
  // (pipeline/sync_deletes.h).
  bool sync_deletes = false;
};

struct ScheduleSettings {
  std::string backup = "0 2 * * *";
  std::string sync = "*/30 * * * *";
  std::string tz = "UTC";
  std::string redis_url;  // empty: no distributed lock
};

// Change capture (`--mode stream`, `--mode setup --with-stream`): the PostgreSQL
// publication and replication slot it creates and reads (a mapped database other than
// POSTGRES_DATABASE gets the slot "<slot>_<database>": slots are per server).
struct StreamSettings {
  std::string publication = "data_ingestion";  // STREAM_PUBLICATION
  std::string slot = "data_ingestion";         // STREAM_SLOT
  int max_lag_seconds = 60;                    // STREAM_MAX_LAG_SECONDS: /health degraded past it
  int change_log_seconds = 10;  // STREAM_CHANGE_LOG_SECONDS: changes per change log object
};

struct LogSettings {
  std::string level = "INFO";               // TRACE | DEBUG | INFO | WARNING | ERROR | CRITICAL
  std::string file = "data_ingestion.log";  // empty: stderr only
  int max_bytes = 10 * 1024 * 1024;         // LOG_MAX_BYTES: rotate past this size
  int backups = 5;                          // LOG_BACKUPS: rotated files kept
  LogFormat format = LogFormat::kText;
  ProgressMode progress = ProgressMode::kAuto;  // PROGRESS: auto | tty | log | off
};

// One line of --print-config: the variable, its effective value (secrets masked) and origin.
struct ConfigEntry {
  std::string name;
  std::string display;
  std::string origin;  // "env", ".env" or "default"
};

struct Config {
  AwsSettings aws;
  S3Settings s3;
  DynamoSettings dynamodb;
  SqlSettings mysql{"localhost", 3306, "root", "", "cinema_rooms", "PREFERRED", ""};
  SqlSettings postgres{"localhost", 5432, "postgres", "", "cinema_reservations", "prefer", ""};
  MongoSettings mongo;
  RunSettings run;
  ScheduleSettings schedule;
  StreamSettings stream;
  LogSettings log;
  std::string api_token;               // secret; empty: no auth, loopback only (see api_host)
  std::string api_host;                // the API's IPv4 address; empty: by api_token
  std::string analytics_database_url;  // optional warehouse; may hold a password
  std::vector<ConfigEntry> entries;    // every variable read, for display
};

// Reads and validates every variable of docs/configuration.md. On failure the status message
// lists one line per bad variable: "NAME: what is wrong; what is accepted".
Result<Config> LoadConfig(const Env& env);

// "NAME = value   (origin)" lines, secrets masked.
std::string FormatConfig(const Config& config);

// Masks the password in a URL's userinfo: scheme://user:****@host/...
std::string MaskUrlPassword(const std::string& url);

}  // namespace di
