#include "config/config.h"

#include <gtest/gtest.h>

#include <functional>

namespace di {
namespace {

Config MustLoad(const std::map<std::string, std::string>& vars) {
  auto r = LoadConfig(Env::FromMap(vars));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Config{};
}

TEST(Config, DefaultsMatchTheSpec) {
  Config c = MustLoad({});
  EXPECT_EQ(c.aws.region, "us-east-1");
  EXPECT_EQ(c.s3.bucket, "cinema-data-bucket");
  EXPECT_EQ(c.s3.backup_folder, "backups");
  EXPECT_EQ(c.s3.analytics_folder, "analytics");
  EXPECT_EQ(c.s3.sse, "AES256");
  EXPECT_EQ(c.s3.compression, Compression::kGzip);
  EXPECT_EQ(c.dynamodb.movies_table, "cinema-movies");
  EXPECT_EQ(c.dynamodb.rooms_table, "cinema-rooms");
  EXPECT_EQ(c.dynamodb.reservations_table, "cinema-reservations");
  EXPECT_EQ(c.dynamodb.users_table, "cinema-users");
  EXPECT_EQ(c.dynamodb.state_table, "cinema-ingestion-state");
  EXPECT_EQ(c.mysql.host, "localhost");
  EXPECT_EQ(c.mysql.port, 3306);
  EXPECT_EQ(c.mysql.user, "root");
  EXPECT_EQ(c.mysql.database, "cinema_rooms");
  EXPECT_EQ(c.postgres.port, 5432);
  EXPECT_EQ(c.postgres.user, "postgres");
  EXPECT_EQ(c.postgres.database, "cinema_reservations");
  EXPECT_EQ(c.postgres.ssl_mode, "prefer");
  EXPECT_EQ(c.postgres.ssl_ca, "");
  EXPECT_EQ(c.mysql.ssl_mode, "PREFERRED");
  EXPECT_EQ(c.mysql.ssl_ca, "");
  EXPECT_EQ(c.mongo.uri, "mongodb://localhost:27017/cinema_movies");
  EXPECT_EQ(c.mongo.database, "cinema_movies");
  EXPECT_EQ(c.run.batch_size, 1000);
  EXPECT_EQ(c.run.max_retries, 3);
  EXPECT_EQ(c.run.retry_delay, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.run.workers, 2);
  EXPECT_EQ(c.run.source_tz, "UTC");
  EXPECT_EQ(c.schedule.backup, "0 2 * * *");
  EXPECT_EQ(c.schedule.sync, "*/30 * * * *");
  EXPECT_EQ(c.schedule.tz, "UTC");
  EXPECT_EQ(c.schedule.redis_url, "");
  EXPECT_EQ(c.log.level, "INFO");
  EXPECT_EQ(c.log.file, "data_ingestion.log");
  EXPECT_EQ(c.log.format, LogFormat::kText);
  EXPECT_EQ(c.log.progress, ProgressMode::kAuto);
  EXPECT_EQ(c.api_token, "");
  EXPECT_EQ(c.api_host, "");
  EXPECT_EQ(c.analytics_database_url, "");
  EXPECT_EQ(c.run.mapping_file, "");
}

// One good value for every variable of docs/configuration.md, and how to see that it was taken.
struct GoodCase {
  const char* name;
  const char* value;
  std::function<bool(const Config&)> taken;
};

TEST(Config, EveryVariableIsRead) {
  const GoodCase cases[] = {
      {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
       [](const Config& c) { return c.aws.access_key_id == "AKIDEXAMPLE"; }},
      {"AWS_SESSION_TOKEN", "tok", [](const Config& c) { return c.aws.session_token == "tok"; }},
      {"AWS_REGION", "eu-west-3", [](const Config& c) { return c.aws.region == "eu-west-3"; }},
      {"AWS_PROFILE", "prod", [](const Config& c) { return c.aws.profile == "prod"; }},
      {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000",
       [](const Config& c) { return c.aws.endpoint_url == "http://127.0.0.1:5000"; }},
      {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000",
       [](const Config& c) { return c.aws.endpoint_url_s3 == "http://127.0.0.1:9000"; }},
      {"AWS_ENDPOINT_URL_DYNAMODB", "https://ddb.local",
       [](const Config& c) { return c.aws.endpoint_url_dynamodb == "https://ddb.local"; }},
      {"S3_BUCKET_NAME", "file:///var/backups",
       [](const Config& c) { return c.s3.is_local() && c.s3.local_path() == "/var/backups"; }},
      {"S3_BACKUP_FOLDER", "team/bk",
       [](const Config& c) { return c.s3.backup_folder == "team/bk"; }},
      {"S3_ANALYTICS_FOLDER", "an", [](const Config& c) { return c.s3.analytics_folder == "an"; }},
      {"DYNAMODB_MOVIES_TABLE", "movies-v2",
       [](const Config& c) { return c.dynamodb.movies_table == "movies-v2"; }},
      {"DYNAMODB_ROOMS_TABLE", "rooms.v2",
       [](const Config& c) { return c.dynamodb.rooms_table == "rooms.v2"; }},
      {"DYNAMODB_RESERVATIONS_TABLE", "res_v2",
       [](const Config& c) { return c.dynamodb.reservations_table == "res_v2"; }},
      {"DYNAMODB_USERS_TABLE", "users-x",
       [](const Config& c) { return c.dynamodb.users_table == "users-x"; }},
      {"DYNAMODB_STATE_TABLE", "state-x",
       [](const Config& c) { return c.dynamodb.state_table == "state-x"; }},
      {"MYSQL_HOST", "db.internal", [](const Config& c) { return c.mysql.host == "db.internal"; }},
      {"MYSQL_PORT", "3307", [](const Config& c) { return c.mysql.port == 3307; }},
      {"MYSQL_USER", "ingest", [](const Config& c) { return c.mysql.user == "ingest"; }},
      {"MYSQL_PASSWORD", "pw", [](const Config& c) { return c.mysql.password == "pw"; }},
      {"MYSQL_DATABASE", "rooms2", [](const Config& c) { return c.mysql.database == "rooms2"; }},
      {"POSTGRES_HOST", "10.0.0.5", [](const Config& c) { return c.postgres.host == "10.0.0.5"; }},
      {"POSTGRES_PORT", "6432", [](const Config& c) { return c.postgres.port == 6432; }},
      {"POSTGRES_USER", "app", [](const Config& c) { return c.postgres.user == "app"; }},
      {"POSTGRES_PASSWORD", "pw", [](const Config& c) { return c.postgres.password == "pw"; }},
      {"POSTGRES_DATABASE", "res", [](const Config& c) { return c.postgres.database == "res"; }},
      {"MONGODB_URI", "mongodb://u:p@h:27018/films?authSource=admin",
       [](const Config& c) { return c.mongo.database == "films"; }},
      {"BATCH_SIZE", "500", [](const Config& c) { return c.run.batch_size == 500; }},
      {"MAX_RETRIES", "0", [](const Config& c) { return c.run.max_retries == 0; }},
      {"RETRY_DELAY", "250ms",
       [](const Config& c) { return c.run.retry_delay == std::chrono::milliseconds(250); }},
      {"BACKUP_SCHEDULE", "@daily", [](const Config& c) { return c.schedule.backup == "@daily"; }},
      {"SYNC_SCHEDULE", "0-30/10 9-17 * JAN-MAR mon-fri",
       [](const Config& c) { return c.schedule.sync == "0-30/10 9-17 * JAN-MAR mon-fri"; }},
      {"SCHEDULE_TZ", "Europe/Madrid",
       [](const Config& c) { return c.schedule.tz == "Europe/Madrid"; }},
      {"REDIS_URL", "redis://127.0.0.1:6379/0",
       [](const Config& c) { return c.schedule.redis_url == "redis://127.0.0.1:6379/0"; }},
      {"LOG_LEVEL", "debug", [](const Config& c) { return c.log.level == "DEBUG"; }},
      {"LOG_FILE", "/tmp/x.log", [](const Config& c) { return c.log.file == "/tmp/x.log"; }},
      {"API_TOKEN", "s3cr3t", [](const Config& c) { return c.api_token == "s3cr3t"; }},
      {"API_HOST", "0.0.0.0", [](const Config& c) { return c.api_host == "0.0.0.0"; }},
      {"COMPRESSION", "zstd",
       [](const Config& c) { return c.s3.compression == Compression::kZstd; }},
      {"S3_SSE", "aws:kms", [](const Config& c) { return c.s3.sse == "aws:kms"; }},
      {"ANALYTICS_DATABASE_URL", "postgresql://u:p@127.0.0.1/wh",
       [](const Config& c) { return c.analytics_database_url == "postgresql://u:p@127.0.0.1/wh"; }},
      {"MAPPING_FILE", "/etc/hostname",
       [](const Config& c) { return c.run.mapping_file == "/etc/hostname"; }},
      {"WORKERS", "8", [](const Config& c) { return c.run.workers == 8; }},
      {"SYNC_DELETES", "TRUE", [](const Config& c) { return c.run.sync_deletes; }},
      {"LOG_FORMAT", "json", [](const Config& c) { return c.log.format == LogFormat::kJson; }},
      {"PROGRESS", "LOG", [](const Config& c) { return c.log.progress == ProgressMode::kLog; }},
      {"PROGRESS", "off", [](const Config& c) { return c.log.progress == ProgressMode::kOff; }},
      {"PROGRESS", "tty", [](const Config& c) { return c.log.progress == ProgressMode::kTty; }},
      {"SOURCE_TZ", "America/Bogota",
       [](const Config& c) { return c.run.source_tz == "America/Bogota"; }},
      {"POSTGRES_SSLMODE", "Verify-Full",
       [](const Config& c) { return c.postgres.ssl_mode == "verify-full"; }},
      {"POSTGRES_SSLROOTCERT", "/etc/hostname",
       [](const Config& c) { return c.postgres.ssl_ca == "/etc/hostname"; }},
      {"MYSQL_SSL_MODE", "required",
       [](const Config& c) { return c.mysql.ssl_mode == "REQUIRED"; }},
      {"MYSQL_SSL_MODE", "DISABLED",
       [](const Config& c) { return c.mysql.ssl_mode == "DISABLED"; }},
      {"MYSQL_SSL_CA", "/etc/hostname",
       [](const Config& c) {
         return c.mysql.ssl_ca == "/etc/hostname" && c.mysql.ssl_mode == "VERIFY_IDENTITY";
       }},
  };
  for (const auto& c : cases) {
    std::map<std::string, std::string> vars = {{c.name, c.value}};
    if (std::string(c.name) == "MYSQL_SSL_CA") vars["MYSQL_SSL_MODE"] = "VERIFY_IDENTITY";
    if (std::string(c.name) == "AWS_ACCESS_KEY_ID") vars["AWS_SECRET_ACCESS_KEY"] = "x";
    Config cfg = MustLoad(vars);
    EXPECT_TRUE(c.taken(cfg)) << c.name << "=" << c.value;
  }
  Config cfg = MustLoad({{"AWS_SECRET_ACCESS_KEY", "sk"}, {"AWS_ACCESS_KEY_ID", "AK"}});
  EXPECT_EQ(cfg.aws.secret_access_key, "sk");
}

// A bad value for every validated variable, and the words the message must hold.
struct BadCase {
  const char* name;
  const char* value;
  const char* expect;  // substring of the error line after "NAME: "
};

TEST(Config, BadValuesAreRefusedNamingTheVariable) {
  const BadCase cases[] = {
      {"AWS_REGION", "Mars", "expected a name such as us-east-1"},
      {"AWS_REGION", "", "must not be empty"},
      {"AWS_ENDPOINT_URL", "127.0.0.1:5000", "expected a URL starting with http:// or https://"},
      {"AWS_ENDPOINT_URL_S3", "s3://x", "scheme 's3' is not accepted"},
      {"AWS_ENDPOINT_URL_DYNAMODB", "nope", "expected a URL starting with http://"},
      {"S3_BUCKET_NAME", "My_Bucket", "expected an S3 bucket name"},
      {"S3_BUCKET_NAME", "file://relative/path", "expected file:///absolute/path"},
      {"S3_BACKUP_FOLDER", "/abs", "without leading or trailing '/'"},
      {"S3_ANALYTICS_FOLDER", "a//b", "is not a folder name"},
      {"DYNAMODB_MOVIES_TABLE", "m", "expected 3-255 characters"},
      {"DYNAMODB_ROOMS_TABLE", "bad name", "is not a DynamoDB table name"},
      {"DYNAMODB_RESERVATIONS_TABLE", "x!", "is not a DynamoDB table name"},
      {"DYNAMODB_USERS_TABLE", "", "must not be empty"},
      {"DYNAMODB_STATE_TABLE", "s", "is not a DynamoDB table name"},
      {"MYSQL_HOST", "has space", "is not a host name"},
      {"MYSQL_PORT", "abc", "'abc' is not a number; expected a whole number from 1 to 65535"},
      {"MYSQL_PORT", "70000", "70000 is out of range"},
      {"MYSQL_USER", "", "must not be empty"},
      {"MYSQL_DATABASE", "", "must not be empty"},
      {"POSTGRES_HOST", "a/b", "is not a host name"},
      {"POSTGRES_PORT", "0", "0 is out of range"},
      {"POSTGRES_USER", "", "must not be empty"},
      {"POSTGRES_DATABASE", "", "must not be empty"},
      {"MONGODB_URI", "http://localhost",
       "expected a URL starting with mongodb:// or mongodb+srv://"},
      {"BATCH_SIZE", "0", "expected a whole number from 1 to 100000"},
      {"BATCH_SIZE", "ten", "is not a number"},
      {"MAX_RETRIES", "-1", "out of range"},
      {"RETRY_DELAY", "soon", "is not a duration"},
      {"BACKUP_SCHEDULE", "0 2 * *", "has 4 fields; expected 5"},
      {"BACKUP_SCHEDULE", "0 25 * * *", "field 2 (hour): 25 is out of range 0-23"},
      {"SYNC_SCHEDULE", "*/0 * * * *", "step '0' must be a number from 1 to 59"},
      {"SCHEDULE_TZ", "Nowhere/City", "is not a known time zone"},
      {"REDIS_URL", "localhost:6379", "expected a URL starting with redis:// or rediss://"},
      {"LOG_LEVEL", "LOUD", "expected TRACE, DEBUG, INFO, WARNING, WARN, ERROR or CRITICAL"},
      {"COMPRESSION", "lz4", "expected gzip, zstd or none"},
      {"S3_SSE", "AES128", "expected AES256, aws:kms or none"},
      {"ANALYTICS_DATABASE_URL", "mysql://x/y", "expected a URL starting with postgresql://"},
      {"MAPPING_FILE", "/no/such/mapping.json", "cannot open '/no/such/mapping.json'"},
      {"WORKERS", "65", "expected a whole number from 1 to 64"},
      {"SYNC_DELETES", "yes", "'yes' is not accepted; expected false or true"},
      {"LOG_FORMAT", "xml", "expected text or json"},
      {"PROGRESS", "fancy", "'fancy' is not accepted; expected auto, tty, log or off"},
      {"SOURCE_TZ", "UTC+2", "is not a known time zone"},
      {"API_HOST", "localhost", "'localhost' is not an IPv4 address; expected e.g. 0.0.0.0"},
      {"POSTGRES_SSLMODE", "on",
       "'on' is not accepted; expected disable, allow, prefer, require, verify-ca or verify-full"},
      {"POSTGRES_SSLROOTCERT", "/no/such/ca.pem", "cannot open '/no/such/ca.pem'"},
      {"MYSQL_SSL_MODE", "VERIFY_FULL",
       "expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"},
      {"MYSQL_SSL_CA", "/no/such/ca.pem", "cannot open '/no/such/ca.pem'"},
      {"MONGODB_URI", "mongodb://h/db?tls=true&tlsCAFile=/no/such/ca.pem",
       "option tlsCAFile: cannot open '/no/such/ca.pem'"},
      {"ANALYTICS_DATABASE_URL", "postgresql://h/wh?sslmode=verify",
       "option sslmode: 'verify' is not accepted; expected disable, allow"},
      {"ANALYTICS_DATABASE_URL", "postgresql://h/wh?sslmode=verify-full&sslrootcert=/no/ca.pem",
       "option sslrootcert: cannot open '/no/ca.pem'"},
  };
  for (const auto& c : cases) {
    auto r = LoadConfig(Env::FromMap({{c.name, c.value}}));
    ASSERT_FALSE(r.ok()) << c.name << "=" << c.value;
    const std::string& msg = r.status().message();
    EXPECT_NE(msg.find(std::string(c.name) + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << " -> " << msg;
  }
}

TEST(Config, AllProblemsAreReportedAtOnce) {
  auto r =
      LoadConfig(Env::FromMap({{"MYSQL_PORT", "x"}, {"COMPRESSION", "rar"}, {"WORKERS", "0"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("invalid configuration (3 problems):"), std::string::npos) << m;
  EXPECT_NE(m.find("MYSQL_PORT:"), std::string::npos);
  EXPECT_NE(m.find("COMPRESSION:"), std::string::npos);
  EXPECT_NE(m.find("WORKERS:"), std::string::npos);
}

// A CA file given to a MySQL mode that does not read it, or VERIFY_CA without one (Connector/C
// would then check nothing), is refused rather than pretending to verify.
TEST(Config, MySqlCaFileGoesWithAVerifyingMode) {
  for (const char* mode : {"PREFERRED", "REQUIRED", "DISABLED"}) {
    auto r =
        LoadConfig(Env::FromMap({{"MYSQL_SSL_MODE", mode}, {"MYSQL_SSL_CA", "/etc/hostname"}}));
    ASSERT_FALSE(r.ok()) << mode;
    EXPECT_NE(
        r.status().message().find("MYSQL_SSL_CA: is set, but MYSQL_SSL_MODE=" + std::string(mode) +
                                  " does not check the server's certificate; set "
                                  "MYSQL_SSL_MODE to VERIFY_CA or VERIFY_IDENTITY"),
        std::string::npos)
        << r.status().message();
  }
  auto r = LoadConfig(Env::FromMap({{"MYSQL_SSL_MODE", "VERIFY_CA"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "MYSQL_SSL_CA: must name the CA file (PEM) when MYSQL_SSL_MODE=VERIFY_CA"),
            std::string::npos)
      << r.status().message();
  EXPECT_TRUE(LoadConfig(Env::FromMap({{"MYSQL_SSL_MODE", "VERIFY_IDENTITY"}})).ok());
  EXPECT_TRUE(
      LoadConfig(Env::FromMap({{"MYSQL_SSL_MODE", "VERIFY_CA"}, {"MYSQL_SSL_CA", "/etc/hostname"}}))
          .ok());
}

// The TLS options of the URLs reach the drivers untouched, and --print-config shows them
// (only the password is masked).
TEST(Config, UrlTlsOptionsAreKeptAndShown) {
  const std::string mongo =
      "mongodb://admin:MONGOPW@db:27017/cinema_movies?tls=true&tlsCAFile=/etc/hostname";
  const std::string warehouse =
      "postgresql://wh:WHPW@wh:5432/wh?sslmode=verify-full&sslrootcert=/etc/hostname";
  Config c = MustLoad({{"MONGODB_URI", mongo},
                       {"ANALYTICS_DATABASE_URL", warehouse},
                       {"POSTGRES_SSLMODE", "verify-ca"},
                       {"POSTGRES_SSLROOTCERT", "/etc/hostname"}});
  EXPECT_EQ(c.mongo.uri, mongo);
  EXPECT_EQ(c.mongo.database, "cinema_movies");
  EXPECT_EQ(c.analytics_database_url, warehouse);
  std::string shown = FormatConfig(c);
  EXPECT_NE(shown.find("mongodb://admin:****@db:27017/cinema_movies?tls=true&tlsCAFile=/etc/"
                       "hostname"),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("postgresql://wh:****@wh:5432/wh?sslmode=verify-full&sslrootcert=/etc/"
                       "hostname"),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("POSTGRES_SSLMODE"), std::string::npos);
  EXPECT_NE(shown.find("= verify-ca"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("MONGOPW"), std::string::npos);
  EXPECT_EQ(shown.find("WHPW"), std::string::npos);
}

TEST(Config, KeyPairMustBeComplete) {
  auto r = LoadConfig(Env::FromMap({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("AWS_SECRET_ACCESS_KEY: must be set when AWS_ACCESS_KEY_ID"),
            std::string::npos);
}

TEST(Config, ProcessEnvironmentWinsOverDotEnv) {
  Env env;
  env.Set("BATCH_SIZE", "10", EnvOrigin::kDotEnv);
  env.Set("WORKERS", "3", EnvOrigin::kDotEnv);
  env.Set("BATCH_SIZE", "20", EnvOrigin::kProcess);  // the process snapshot is applied last
  Config c = *LoadConfig(env);
  EXPECT_EQ(c.run.batch_size, 20);
  EXPECT_EQ(c.run.workers, 3);
  std::string shown = FormatConfig(c);
  EXPECT_NE(shown.find("WORKERS                     = 3   (.env)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("BATCH_SIZE                  = 20   (env)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("MAX_RETRIES                 = 3   (default)"), std::string::npos) << shown;
}

TEST(Config, PrintedConfigMasksEverySecret) {
  const char* secrets[] = {"SECRETKEY123", "TOKEN456",    "MYSQLPW789",     "PGPW012",
                           "MONGOPW345",   "APITOKEN678", "WAREHOUSEPW901", "REDISPW234"};
  Config c = MustLoad({
      {"AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY"},
      {"AWS_SECRET_ACCESS_KEY", secrets[0]},
      {"AWS_SESSION_TOKEN", secrets[1]},
      {"MYSQL_PASSWORD", secrets[2]},
      {"POSTGRES_PASSWORD", secrets[3]},
      {"MONGODB_URI", std::string("mongodb://admin:") + secrets[4] + "@db:27017/cinema_movies"},
      {"API_TOKEN", secrets[5]},
      {"ANALYTICS_DATABASE_URL", std::string("postgresql://wh:") + secrets[6] + "@wh:5432/wh"},
      {"REDIS_URL", std::string("redis://:") + secrets[7] + "@127.0.0.1:6379/0"},
  });
  std::string shown = FormatConfig(c);
  for (const char* s : secrets) EXPECT_EQ(shown.find(s), std::string::npos) << s << "\n" << shown;
  EXPECT_EQ(shown.find("AKIAEXAMPLEKEY"), std::string::npos);
  EXPECT_NE(shown.find("AKIA****"), std::string::npos);
  EXPECT_NE(shown.find("mongodb://admin:****@db:27017/cinema_movies"), std::string::npos);
  EXPECT_NE(shown.find("postgresql://wh:****@wh:5432/wh"), std::string::npos);
  EXPECT_NE(shown.find("redis://:****@127.0.0.1:6379/0"), std::string::npos);
  EXPECT_NE(shown.find("MYSQL_PASSWORD"), std::string::npos);
}

TEST(Config, MaskUrlPassword) {
  EXPECT_EQ(MaskUrlPassword("mongodb://u:p@h/db"), "mongodb://u:****@h/db");
  EXPECT_EQ(MaskUrlPassword("mongodb://u@h/db"), "mongodb://u@h/db");
  EXPECT_EQ(MaskUrlPassword("mongodb://h/db?x=a@b"), "mongodb://h/db?x=a@b");
  EXPECT_EQ(MaskUrlPassword("no-url"), "no-url");
}

}  // namespace
}  // namespace di
