// The REST API through a real HTTP client against the binary (`--mode api`) on the stack:
// every endpoint and error code, auth, health, metrics, the OpenAPI document kept true, no
// secret in any answer or log, and SIGTERM stopping a migration that the next run resumes.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/server.h"
#include "child_process.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / UniqueName("di-apitest");
    fs::create_directories(dir_ / "store");
    std::ofstream(dir_ / "mapping.json") << R"({"tables": [
      {"source": "mysql", "table": "rooms",
       "dynamodb": {"table": "rooms-)" + s_ + R"(", "key": {"room_id": "id"},
                    "indexes": [{"name": "screen_type-index", "hash": "screen_type"}]}},
      {"source": "postgresql", "table": "users",
       "dynamodb": {"table": "users-)" + s_ + R"(", "key": {"user_id": "id"},
                    "indexes": [{"name": "email-index", "hash": "email"}]}},
      {"source": "mongodb", "table": "genres"}]})";
    Psql("DROP DATABASE IF EXISTS " + RestoreDb());
    Psql("CREATE DATABASE " + RestoreDb());
  }
  void TearDown() override {
    Psql("DROP DATABASE IF EXISTS " + RestoreDb());
    fs::remove_all(dir_);
  }
  std::string RestoreDb() { return "api_rt_" + std::to_string(getpid()); }
  std::string Psql(const std::string& sql) { return PsqlOn("postgres", sql); }
  std::string Env(const std::string& extra = "") {
    return StackEnvShell() + "export MAPPING_FILE=" + (dir_ / "mapping.json").string() +
           " S3_BUCKET_NAME=file://" + (dir_ / "store").string() + " DYNAMODB_STATE_TABLE=state-" +
           s_ + " LOG_FILE=" + (dir_ / "api.log").string() + " BATCH_SIZE=100 " + extra + " && ";
  }
  void SetUpAws() {
    std::string out;
    ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  }
  // The parts of EveryEndpointAndErrorCode, in the order they run against one server.
  void CheckOpenApiAndHealth(httplib::Client& c);
  void CheckBackupJobAndBadRequests(httplib::Client& c);
  void CheckSyncAndMigrate(httplib::Client& c);
  void CheckBackupsAndDynamoListings(httplib::Client& c, const std::string& suffix);
  void CheckRestoreJob(httplib::Client& c);
  void CheckJobsAndMetrics(httplib::Client& c);
  static json Parse(const httplib::Result& r) {
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }
  fs::path dir_;
  std::string s_ = UniqueName("api");
};

// Every curl example of the seed's README, as written there (only the host and port
// changed): a POST with no body and no Content-Length is a POST with an empty body.
TEST_F(ApiTest, TheSeedsCurlExamplesWorkAsWritten) {
  SetUpAws();
  int port = FreeLoopbackPort();
  ApiProcess api(Env(), port);
  ASSERT_TRUE(api.up()) << api.Output();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  httplib::Client c("127.0.0.1", port);
  auto curl = [&](const std::string& args, std::string* body = nullptr) {
    std::string out;
    RunCommand("curl -s -w '\n%{http_code}' " + args, &out);
    size_t nl = out.rfind('\n');
    if (body) *body = out.substr(0, nl == std::string::npos ? 0 : nl);
    return nl == std::string::npos ? out : out.substr(nl + 1);
  };
  std::string body;
  EXPECT_EQ(curl("-X POST " + base + "/backup", &body), "202") << body;
  WaitForJob(c, json::parse(body, nullptr, false).value("job_id", ""));
  EXPECT_EQ(curl("-X POST " + base + "/migrate", &body), "202") << body;
  WaitForJob(c, json::parse(body, nullptr, false).value("job_id", ""));
  EXPECT_EQ(curl("-X POST " + base + "/sync/rooms", &body), "202") << body;
  WaitForJob(c, json::parse(body, nullptr, false).value("job_id", ""));
  EXPECT_EQ(curl(base + "/health", &body), "200") << body;
  EXPECT_EQ(curl("\"" + base + "/backups?source_db=mysql\"", &body), "200") << body;
  EXPECT_NE(body.find("\"rooms\""), std::string::npos) << body;
  EXPECT_EQ(curl(base + "/dynamodb/tables", &body), "200") << body;
  // A body past the limit is refused whole, naming the limit.
  std::string big = "{\"tables\": [\"" + std::string(2 << 20, 'x') + "\"]}";
  auto r = c.Post("/backup", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_NE(r->body.find("over 1048576 bytes"), std::string::npos) << r->body;
}

void ApiTest::CheckOpenApiAndHealth(httplib::Client& c) {
  // The OpenAPI document lists exactly the routes served.
  json doc = Parse(c.Get("/openapi.json"));
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> documented, served;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      documented.insert({m, path});
    }
  for (const auto& r : ApiServer::Routes()) served.insert(r);
  EXPECT_EQ(documented, served);

  // Health: every dependency up, with latency.
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  json h = json::parse(health->body);
  for (const char* dep : {"mysql", "postgresql", "mongodb", "s3", "dynamodb", "redis"}) {
    EXPECT_EQ(h["dependencies"][dep]["status"], "up") << dep << ": " << health->body;
    EXPECT_TRUE(h["dependencies"][dep]["latency_ms"].is_number()) << dep;
  }
}

void ApiTest::CheckBackupJobAndBadRequests(httplib::Client& c) {
  // Backup: 202 + Location, then the job with progress per table.
  auto b = c.Post("/backup", R"({"tables": ["rooms"]})", "application/json");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 202) << b->body;
  std::string location = b->get_header_value("Location");
  ASSERT_EQ(location.rfind("/jobs/", 0), 0u) << location;
  json job = WaitForJob(c, location.substr(6));
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["progress"]["backup:mysql.rooms"]["rows"], 10 * CinemaScale()) << job.dump(2);
  EXPECT_TRUE(job["report_key"].is_string());
  // Bad requests name the field; unknown tables are 404.
  auto bad = c.Post("/backup", "not json", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Parse(bad)["field"], "body");
  bad = c.Post("/backup", R"({"tables": "rooms"})", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Parse(bad)["field"], "tables");
  EXPECT_EQ(c.Post("/backup", R"({"tables": ["nope"]})", "application/json")->status, 404);
}

void ApiTest::CheckSyncAndMigrate(httplib::Client& c) {
  // Sync: unknown table 404, bad timestamp 400 naming it, ?wait=true answers when done.
  EXPECT_EQ(c.Post("/sync/nope", "{}", "application/json")->status, 404);
  auto ts = c.Post("/sync/users", R"({"last_sync_time": "yesterday"})", "application/json");
  EXPECT_EQ(ts->status, 400);
  EXPECT_EQ(Parse(ts)["field"], "last_sync_time");
  auto sync = c.Post("/sync/users?wait=true", R"({"last_sync_time": "2000-01-01T00:00:00Z"})",
                     "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 200) << sync->body;
  EXPECT_EQ(Parse(sync)["state"], "succeeded") << sync->body;

  // Migrate: a second one while the first runs is 409.
  auto m1 = c.Post("/migrate", "", "application/json");
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->status, 202) << m1->body;
  auto m2 = c.Post("/migrate", "", "application/json");
  EXPECT_EQ(m2->status, 409) << m2->body;
  json mj = WaitForJob(c, Parse(m1)["job_id"]);
  EXPECT_EQ(mj["state"], "succeeded") << mj.dump(2);
  EXPECT_EQ(mj["progress"]["dynamodb:postgresql.users"]["rows"], 1000 * CinemaScale());
}

void ApiTest::CheckBackupsAndDynamoListings(httplib::Client& c, const std::string& suffix) {
  // Backups: listed newest first, filtered, paginated; bad parameters 400.
  json list = Parse(c.Get("/backups?source_db=mysql&table_name=rooms"));
  ASSERT_EQ(list["backups"].size(), 2u) << list.dump(2);  // the backup job and the migrate
  EXPECT_GT(list["backups"][0]["run_id"], list["backups"][1]["run_id"]);
  EXPECT_EQ(list["backups"][0]["restorable"], true);
  json page = Parse(c.Get("/backups?limit=1"));
  ASSERT_EQ(page["backups"].size(), 1u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  json page2 =
      Parse(c.Get(("/backups?limit=1&cursor=" + page["next_cursor"].get<std::string>()).c_str()));
  EXPECT_NE(page2["backups"][0]["manifest"], page["backups"][0]["manifest"]);
  EXPECT_EQ(c.Get("/backups?source_db=oracle")->status, 400);
  EXPECT_EQ(c.Get("/backups?limit=0")->status, 400);

  // DynamoDB tables and items, paginated with a cursor.
  json tables = Parse(c.Get("/dynamodb/tables"));
  ASSERT_EQ(tables["tables"].size(), 2u) << tables.dump(2);
  for (const auto& t : tables["tables"]) EXPECT_EQ(t["status"], "ACTIVE") << t.dump();
  std::string users = "/dynamodb/users-" + suffix + "/items";
  json items = Parse(c.Get((users + "?limit=5").c_str()));
  ASSERT_EQ(items["items"].size(), 5u) << items.dump();
  ASSERT_TRUE(items["next_cursor"].is_string());
  json more =
      Parse(c.Get((users + "?limit=5&cursor=" + items["next_cursor"].get<std::string>()).c_str()));
  ASSERT_EQ(more["items"].size(), 5u);
  EXPECT_NE(more["items"][0]["user_id"], items["items"][0]["user_id"]);
  EXPECT_EQ(c.Get("/dynamodb/nope/items")->status, 404);
  EXPECT_EQ(c.Get((users + "?cursor=zz").c_str())->status, 400);
  EXPECT_EQ(c.Get("/dynamodb/users;DROP/items")->status, 404);
}

void ApiTest::CheckRestoreJob(httplib::Client& c) {
  // Restore as a job; missing fields 400; a table never backed up 404.
  const Config& cfg = StackConfig();
  std::string target = "postgresql://" + cfg.postgres.user + ":" + cfg.postgres.password + "@" +
                       cfg.postgres.host + ":" + std::to_string(cfg.postgres.port) + "/" +
                       RestoreDb();
  auto r = c.Post("/restore?wait=true",
                  json({{"source_db", "postgresql"},
                        {"table", "users"},
                        {"latest", true},
                        {"target_url", target}})
                      .dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Parse(r)["result"]["rows"], 1000 * CinemaScale()) << r->body;
  EXPECT_EQ(r->body.find(cfg.postgres.password + "@"), std::string::npos);  // URL masked
  EXPECT_EQ(PsqlOn(RestoreDb(), "SELECT count(*) FROM users"),
            std::to_string(1000 * CinemaScale()));
  auto missing = c.Post("/restore", R"({"source_db": "postgresql"})", "application/json");
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(Parse(missing)["field"], "table");
  EXPECT_EQ(Parse(c.Post("/restore", R"({"source_db": "db2", "table": "x", "latest": true})",
                         "application/json"))["field"],
            "source_db");
  EXPECT_EQ(c.Post("/restore", R"({"source_db": "mysql", "table": "seats", "latest": true})",
                   "application/json")
                ->status,
            404);
}

void ApiTest::CheckJobsAndMetrics(httplib::Client& c) {
  // Jobs.
  json jobs = Parse(c.Get("/jobs"));
  EXPECT_GE(jobs["jobs"].size(), 4u);
  EXPECT_EQ(c.Get("/jobs/nope")->status, 404);
  EXPECT_EQ(c.Get("/nowhere")->status, 404);

  // Metrics in Prometheus text.
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  for (const char* want :
       {"di_rows_read_total{table=\"postgresql.users\",kind=\"dynamodb\"}",
        "di_rows_written_total{table=\"postgresql.users\",target=\"dynamodb\"}",
        "di_bytes_written_total{table=\"mysql.rooms\"}",
        "di_batch_duration_seconds_bucket{table=\"postgresql.users\",le=\"+Inf\"}",
        "di_jobs{kind=\"migrate\",state=\"succeeded\"} 1",
        "di_last_success_timestamp_seconds{kind=\"migrate\"}",
        "di_aws_retries_total{service=\"dynamodb\"}", "# TYPE di_batch_duration_seconds histogram"})
    EXPECT_NE(metrics->body.find(want), std::string::npos) << want;
}

TEST_F(ApiTest, EveryEndpointAndErrorCode) {
  SetUpAws();
  int port = FreeLoopbackPort();
  ApiProcess api(Env(), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(300, 0);
  CheckOpenApiAndHealth(c);
  CheckBackupJobAndBadRequests(c);
  CheckSyncAndMigrate(c);
  CheckBackupsAndDynamoListings(c, s_);
  CheckRestoreJob(c);
  CheckJobsAndMetrics(c);
  EXPECT_EQ(api.Stop(), 0);
}

TEST_F(ApiTest, TokenGuardsAllButHealthMetricsAndOpenApi) {
  SetUpAws();
  int port = FreeLoopbackPort();
  ApiProcess api(Env("API_TOKEN=tok-3f9a-guard"), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  auto none = c.Get("/jobs");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(Parse(none)["field"], "Authorization");
  EXPECT_EQ(c.Get("/jobs", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(c.Get("/jobs", {{"Authorization", "tok-3f9a-guard"}})->status, 401);
  EXPECT_EQ(c.Post("/migrate", "", "application/json")->status, 401);
  EXPECT_EQ(c.Get("/jobs", {{"Authorization", "Bearer tok-3f9a-guard"}})->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(c.Get("/metrics")->status, 200);
  EXPECT_EQ(c.Get("/openapi.json")->status, 200);
  EXPECT_EQ(api.Stop(), 0);
  EXPECT_NE(api.Output().find("listening on http://0.0.0.0:" + std::to_string(port)),
            std::string::npos)
      << api.Output();
}

// API_HOST chooses the address without a token (the container image's 0.0.0.0), with a
// warning that nothing guards it; the endpoints stay open as without a token.
TEST_F(ApiTest, ApiHostWithoutTokenListensThereAndWarns) {
  int port = FreeLoopbackPort();
  ApiProcess api(Env("API_HOST=0.0.0.0"), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(c.Get("/jobs")->status, 200);
  EXPECT_EQ(api.Stop(), 0);
  const std::string out = api.Output();
  EXPECT_NE(out.find("listening on http://0.0.0.0:" + std::to_string(port)), std::string::npos)
      << out;
  EXPECT_NE(out.find("API_TOKEN is not set and API_HOST is 0.0.0.0: anyone who reaches port " +
                     std::to_string(port)),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("listening on 127.0.0.1 only"), std::string::npos) << out;
}

TEST_F(ApiTest, HealthIs503WhenARequiredDependencyIsDown) {
  SetUpAws();
  int port = FreeLoopbackPort();
  ApiProcess api(Env("MYSQL_PORT=1"), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503) << h->body;
  json j = json::parse(h->body);
  EXPECT_EQ(j["status"], "degraded");
  EXPECT_EQ(j["dependencies"]["mysql"]["status"], "down");
  EXPECT_NE(j["dependencies"]["mysql"]["error"].get<std::string>().find(":1"), std::string::npos)
      << h->body;
  EXPECT_EQ(j["dependencies"]["postgresql"]["status"], "up");
  EXPECT_NE(api.Output().find("listening on http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(api.Output().find("API_TOKEN is not set: listening on 127.0.0.1 only"),
            std::string::npos);
}

TEST_F(ApiTest, NoSecretInAnyLogReportOrAnswer) {
  const std::string secrets[] = {"sk-SECRET-7d41c2", "st-SESSION-90aa1e", "api-TOKEN-55be03"};
  std::string extra = "AWS_SECRET_ACCESS_KEY=" + secrets[0] + " AWS_SESSION_TOKEN=" + secrets[1] +
                      " API_TOKEN=" + secrets[2] + " LOG_LEVEL=DEBUG";
  std::string out;
  ASSERT_EQ(RunCommand(Env(extra) + DI_BINARY + " --mode setup", &out), 0) << out;
  int port = FreeLoopbackPort();
  ApiProcess api(Env(extra), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(300, 0);
  httplib::Headers auth = {{"Authorization", "Bearer " + secrets[2]}};
  std::string answers;
  auto keep = [&](const httplib::Result& r) {
    ASSERT_TRUE(r);
    answers += r->body;
  };
  keep(c.Post("/migrate?wait=true", auth, "", "application/json"));
  keep(c.Get("/jobs", auth));
  keep(c.Get("/health"));
  keep(c.Get("/metrics"));
  keep(c.Get("/backups", auth));
  keep(c.Get("/dynamodb/tables", auth));
  keep(c.Post("/sync/users?wait=true", auth, "{}", "application/json"));
  keep(c.Get("/jobs/nope", auth));
  keep(c.Get("/jobs", {{"Authorization", "Bearer wrong"}}));
  EXPECT_EQ(api.Stop(), 0);
  ASSERT_NE(answers.find("succeeded"), std::string::npos) << answers;
  // Every log line, report, manifest and answer.
  std::string everything = answers + api.Output();
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file() || e.path().extension() == ".gz") continue;
    std::ifstream in(e.path());
    everything += std::string(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NE(everything.find("migration_timestamp"), std::string::npos);  // a report was read
  ASSERT_NE(everything.find("pipeline INFO"), std::string::npos);        // the log was read
  for (const auto& s : secrets) EXPECT_EQ(everything.find(s), std::string::npos) << s;
  // --print-config masks them too.
  ASSERT_EQ(RunCommand(Env(extra) + DI_BINARY + " --print-config", &out), 0) << out;
  for (const auto& s : secrets) EXPECT_EQ(out.find(s), std::string::npos) << s;
}

TEST_F(ApiTest, SigtermStopsAMigrationAtABatchAndTheNextRunResumesIt) {
  SetUpAws();
  // SIGTERM comes right after the run's 3rd checkpoint (DI_SIGTERM_AFTER_CHECKPOINTS: a defined
  // point, not a delay a fast machine could outrun), well before its last at scale 1.
  std::string env = Env("BATCH_SIZE=50 DI_SIGTERM_AFTER_CHECKPOINTS=3"), out;
  // The CLI: exit 0 at a batch boundary.
  int rc = RunCommand(env + DI_BINARY + " --mode migrate", &out);
  EXPECT_EQ(rc, 0) << out;
  ASSERT_NE(out.find("stopped by a signal at a batch boundary; run it again to resume run"),
            std::string::npos)
      << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_NE(out.find("resuming run"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_NE(out.find("OK        postgresql.users: source " + std::to_string(1000 * CinemaScale()) +
                     ", dynamodb " + std::to_string(1000 * CinemaScale())),
            std::string::npos)
      << out;

  // The API: SIGTERM while a migration runs; the process exits 0 and the run resumes.
  int port = FreeLoopbackPort();
  ApiProcess api(env, port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  auto m = c.Post("/migrate", "", "application/json");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 202);
  EXPECT_EQ(api.Wait(), 0) << api.Output();
  EXPECT_NE(api.Output().find("stopped at a batch boundary"), std::string::npos) << api.Output();
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_NE(out.find("resuming run"), std::string::npos) << out;
}

}  // namespace
}  // namespace di::testing
