// The IAM policies of docs/iam/, one per mode, held to what the binary does. Against a moto of
// the test's own with IAM on (moto_server.h), each mode runs as a user holding only its
// policy (handed to moto as iam_users.py translates it) and does its work with no request
// refused; then every request of every user is checked against its policy as AWS reads it
// (iam_audit.py), which covers what moto does not check (DynamoDB's tables, AWS's names of
// the S3 actions). A policy lacking one action makes its mode fail naming the action, the
// resource and the missing permission. moto's own checking is probed (iam_probe.py) and must
// be what docs/iam/README.md says it is.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "child_process.h"
#include "moto_server.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;

const char* const kModes[] = {"setup",   "migrate", "sync", "backup",   "verify",
                              "restore", "stream",  "api",  "scheduler"};
// Users whose mode's policy lacks one action: {user, mode, action}.
const char* const kLacking[][3] = {{"setup-without-CreateTable", "setup", "dynamodb:CreateTable"},
                                   {"backup-without-PutObject", "backup", "s3:PutObject"},
                                   {"verify-without-Scan", "verify", "dynamodb:Scan"}};
const std::string kBucket = "cinema-data-bucket";

class IamPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    moto_ = std::make_unique<MotoServer>();
    json spec = json::array();
    for (const char* mode : kModes) spec.push_back({{"name", mode}, {"policy", Policy(mode)}});
    for (const auto& l : kLacking)
      spec.push_back({{"name", l[0]}, {"policy", Policy(l[1])}, {"without", l[2]}});
    keys_ = moto_->MakeUsers(spec, &error_);
  }
  static void TearDownTestSuite() { moto_.reset(); }
  void SetUp() override;
  void TearDown() override;
  static std::string Policy(const std::string& mode) {
    return std::string(DI_SOURCE_DIR) + "/docs/iam/" + mode + ".json";
  }
  // A shell prefix for the binary as `user` against our moto, with the default bucket and
  // table names (those the policies name) and the test's mapping.
  std::string Env(const std::string& user, const std::string& extra = "") const;
  int Run(const std::string& user, const std::string& args, std::string* out) const {
    return RunCommand(Env(user) + DI_BINARY + " " + args, out);
  }
  // A run as `user` that must end with `rc`, print `expect` and have no request refused.
  void ExpectRun(const std::string& user, const std::string& args, int rc,
                 const std::string& expect);
  static aws::ServiceOptions Admin(const std::string& service);
  // The keys under `prefix` in the bucket, listed as admin.
  static std::vector<std::string> ObjectKeys(const std::string& prefix);
  // `text` with each {s} replaced by this test's suffix (its process id).
  std::string Named(std::string text) const;
  std::string Psql(const std::string& sql) const {
    return PsqlOn(StackConfig().postgres.database, sql);
  }
  void SyncBackupVerifyRestore();
  void Stream();
  void Api();
  void Scheduler();

  static inline std::unique_ptr<MotoServer> moto_;
  static inline json keys_;
  static inline std::string error_;
  const std::string s_ = std::to_string(getpid());
  const std::string res_ = "iam_res_" + s_, seat_ = "iam_seat_" + s_, usr_ = "iam_usr_" + s_;
  const std::string mapping_ = "/tmp/di-iam-mapping-" + s_ + ".json";
};

// The test's PostgreSQL tables (a reservation table with its seats embedded, a user table;
// the seats backed up too) and its mapping of them onto two of the cinema DynamoDB tables.
const char kTables[] = R"(
  CREATE TABLE iam_res_{s} (id int PRIMARY KEY, user_id int NOT NULL, v int NOT NULL,
                            updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE iam_seat_{s} (id int PRIMARY KEY, reservation_id int NOT NULL, seat text);
  CREATE TABLE iam_usr_{s} (id int PRIMARY KEY, email text NOT NULL, bio text,
                            updated_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO iam_res_{s} (id, user_id, v) SELECT g, g % 20 + 1, 0 FROM generate_series(1, 50) g;
  INSERT INTO iam_seat_{s} SELECT g, g % 50 + 1, 'A' || g FROM generate_series(1, 100) g;
  INSERT INTO iam_usr_{s} (id, email)
    SELECT g, 'u' || g || '@cinema.test' FROM generate_series(1, 20) g)";
const char kMapping[] = R"({"tables": [
  {"source": "postgresql", "table": "iam_res_{s}",
   "dynamodb": {"table": "cinema-reservations", "key": {"reservation_id": "id"},
                "indexes": [{"name": "user_id-index", "hash": "user_id"}],
                "embed": [{"table": "iam_seat_{s}", "match": {"reservation_id": "id"},
                           "as": "seats"}]}},
  {"source": "postgresql", "table": "iam_usr_{s}",
   "dynamodb": {"table": "cinema-users", "key": {"user_id": "id"}}},
  {"source": "postgresql", "table": "iam_seat_{s}"}]})";
const char kDrop[] = R"(
  SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE slot_name = 'iam_{s}';
  DROP PUBLICATION IF EXISTS iam_{s};
  DROP TABLE IF EXISTS iam_res_{s}, iam_seat_{s}, iam_usr_{s}, iam_rst_{s}, iam_rst2_{s})";

std::string IamPolicyTest::Named(std::string text) const {
  for (size_t at; (at = text.find("{s}")) != std::string::npos;) text.replace(at, 3, s_);
  return text;
}

void IamPolicyTest::SetUp() {
  ASSERT_TRUE(keys_.is_object()) << "moto with IAM on: " << error_;
  TearDown();
  ASSERT_EQ(Psql(Named(kTables)), "");
  std::ofstream(mapping_) << Named(kMapping);
}

void IamPolicyTest::TearDown() {
  Psql(Named(kDrop));
  std::remove(mapping_.c_str());
}

std::string IamPolicyTest::Env(const std::string& user, const std::string& extra) const {
  return StackEnvShell() +
         "unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_DYNAMODB "
         "ANALYTICS_DATABASE_URL API_TOKEN && export AWS_ENDPOINT_URL=" +
         moto_->endpoint() + " AWS_ACCESS_KEY_ID=" + keys_[user]["id"].get<std::string>() +
         " AWS_SECRET_ACCESS_KEY=" + keys_[user]["secret"].get<std::string>() +
         " AWS_REGION=us-east-1 S3_BUCKET_NAME=" + kBucket +
         " S3_BACKUP_FOLDER=backups S3_ANALYTICS_FOLDER=analytics "
         "DYNAMODB_STATE_TABLE=cinema-ingestion-state MAPPING_FILE=" +
         mapping_ + " STREAM_PUBLICATION=iam_" + s_ + " STREAM_SLOT=iam_" + s_ +
         " LOG_FILE= MAX_RETRIES=1 RETRY_DELAY=0.1 BATCH_SIZE=100 " + extra + " && ";
}

void IamPolicyTest::ExpectRun(const std::string& user, const std::string& args, int rc,
                              const std::string& expect) {
  const int refused = moto_->Refusals();
  std::string out;
  EXPECT_EQ(Run(user, args, &out), rc) << user << " " << args << ":\n" << out;
  EXPECT_NE(out.find(expect), std::string::npos) << user << " " << args << ":\n" << out;
  const std::string log = moto_->Output();
  EXPECT_EQ(moto_->Refusals(), refused) << user << " " << args << " was refused:\n"
                                        << log.substr(log.size() > 8000 ? log.size() - 8000 : 0);
}

aws::ServiceOptions IamPolicyTest::Admin(const std::string& service) {
  aws::ServiceOptions o = StackService(service);
  o.endpoint = moto_->endpoint();
  o.credentials = {keys_["admin"]["id"], keys_["admin"]["secret"], ""};
  return o;
}

std::vector<std::string> IamPolicyTest::ObjectKeys(const std::string& prefix) {
  aws::S3Client s3(std::make_shared<aws::AwsClient>(Admin("s3"), aws::MakeCurlTransport()));
  std::vector<std::string> keys;
  auto listed = s3.ListAll(kBucket, prefix);
  if (listed.ok())
    for (const auto& o : *listed) keys.push_back(o.key);
  return keys;
}

void IamPolicyTest::SyncBackupVerifyRestore() {
  // A changed row, and one too big for an item: a dead letter.
  Psql("UPDATE " + res_ + " SET v = 1, updated_at = now() WHERE id <= 5; INSERT INTO " + usr_ +
       " (id, email, bio) VALUES (900, 'big@cinema.test', repeat('x', 450000))");
  ExpectRun("sync", "--mode sync", 1, "1 dead-lettered");
  EXPECT_FALSE(ObjectKeys("analytics/dead_letters/").empty());
  Psql("DELETE FROM " + usr_ + " WHERE id = 900");
  ExpectRun("sync", "--mode sync", 0, ": SUCCESS");
  ExpectRun("backup", "--mode backup", 0, ": SUCCESS");
  ExpectRun("verify", "--mode verify", 0, "OK        postgresql." + usr_);
  ExpectRun("restore",
            "--mode restore --source-db postgresql --table " + usr_ +
                " --latest --target-table iam_rst_" + s_ + " --if-exists replace",
            0, "20 rows");
  EXPECT_EQ(Psql("SELECT count(*) FROM iam_rst_" + s_), "20");
}

void IamPolicyTest::Stream() {
  const int refused = moto_->Refusals();
  ChildProcess stream(Env("stream") + "exec " + DI_BINARY + " --mode stream");
  Psql("INSERT INTO " + usr_ +
       " (id, email, bio) VALUES (901, 'new@cinema.test', 'b'), (902, "
       "'big2@cinema.test', repeat('y', 450000))");
  aws::DynamoDbClient ddb(
      std::make_shared<aws::AwsClient>(Admin("dynamodb"), aws::MakeCurlTransport()));
  bool item = false, letter = false, changes = false;
  // Until all three are there, or it ended, or it was refused (it would retry on).
  for (int i = 0; i < 300 && !(item && letter && changes) && stream.Running() &&
                  stream.Output().find("lack the permission") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto got = ddb.GetItem("cinema-users", {{"user_id", {{"N", "901"}}}});
    item = got.ok() && got->has_value();
    letter = !ObjectKeys("analytics/dead_letters/stream-").empty();
    changes = !ObjectKeys("backups/postgresql/" + usr_ + "/changes/").empty();
  }
  EXPECT_TRUE(item && letter && changes)
      << "item " << item << ", dead letter " << letter << ", change log " << changes << "\n"
      << stream.Output();
  EXPECT_EQ(stream.Stop(), 0) << stream.Output();
  EXPECT_EQ(moto_->Refusals(), refused) << stream.Output();
  Psql("DELETE FROM " + usr_ + " WHERE id = 902");
}

void IamPolicyTest::Api() {
  const int refused = moto_->Refusals();
  const int port = FreeLoopbackPort();
  ApiProcess api(Env("api"), port);
  ASSERT_TRUE(api.up()) << api.Output();
  httplib::Client c("127.0.0.1", port);
  auto get = [&](const std::string& path) {
    auto r = c.Get(path.c_str());
    return r && r->status == 200 ? json::parse(r->body, nullptr, false) : json();
  };
  json health = get("/health");
  EXPECT_EQ(health.value("status", ""), "ok") << health.dump();
  for (const auto& t : get("/dynamodb/tables").value("tables", json::array()))
    EXPECT_EQ(t["status"], "ACTIVE") << t.dump();
  EXPECT_FALSE(get("/dynamodb/cinema-users/items?limit=5").value("items", json::array()).empty());
  EXPECT_FALSE(get("/backups").value("backups", json::array()).empty());
  const std::pair<std::string, std::string> jobs[] = {
      {"/migrate", "{}"},
      {"/backup", R"({"tables": [")" + usr_ + R"("]})"},
      {"/sync/" + usr_, "{}"},
      {"/restore", R"({"source_db": "postgresql", "table": ")" + usr_ +
                       R"(", "latest": true, "target_table": "iam_rst2_)" + s_ +
                       R"(", "if_exists": "replace"})"}};
  for (const auto& [path, body] : jobs) {
    auto r = c.Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(r && r->status == 202) << path << ": " << (r ? r->body : "no answer");
    json job = WaitForJob(c, json::parse(r->body).value("job_id", ""));
    EXPECT_EQ(job.value("state", ""), "succeeded") << path << ": " << job.dump(2);
  }
  auto started = c.Post("/stream/start", "{}", "application/json");
  EXPECT_TRUE(started && started->status < 300) << (started ? started->body : "no answer");
  std::string state;
  for (int i = 0; i < 100 && state != "running"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = get("/stream").value("state", "");
  }
  EXPECT_EQ(state, "running") << get("/stream").dump();
  auto stopped = c.Post("/stream/stop", "{}", "application/json");
  EXPECT_TRUE(stopped && stopped->status < 300) << (stopped ? stopped->body : "no answer");
  EXPECT_EQ(api.Stop(), 0) << api.Output();
  EXPECT_EQ(moto_->Refusals(), refused) << api.Output();
}

// The scheduler's two jobs, run at start as firings missed while it was down (the last ones
// set a minute back in Redis database 15, the test's own).
void IamPolicyTest::Scheduler() {
  std::string url = StackConfig().schedule.redis_url;
  ASSERT_FALSE(url.empty()) << "stack.env sets REDIS_URL";
  const size_t path = url.find('/', url.find("://") + 3);
  url = (path == std::string::npos ? url : url.substr(0, path)) + "/15";
  const std::string cli = "redis-cli -u " + url + " ";
  const std::string clear = cli +
                            "EVAL \"for _, k in ipairs(redis.call('KEYS', 'di:*')) do "
                            "redis.call('DEL', k) end\" 0";
  std::string out;
  const long back = std::time(nullptr) / 60 * 60 - 60;
  ASSERT_EQ(RunCommand(clear + " && " + cli + "SET di:last:backup " + std::to_string(back) +
                           " && " + cli + "SET di:last:sync " + std::to_string(back),
                       &out),
            0)
      << out;
  Psql("UPDATE " + res_ + " SET v = 2, updated_at = now() WHERE id <= 3");  // for its sync
  const size_t reports = ObjectKeys("analytics/migration_reports/").size();
  const int refused = moto_->Refusals();
  ChildProcess scheduler(
      Env("scheduler",
          "REDIS_URL=" + url + " BACKUP_SCHEDULE='* * * * *' SYNC_SCHEDULE='* * * * *'") +
      "exec " + DI_BINARY + " --mode scheduler");
  std::vector<std::string> keys;
  for (int i = 0; i < 600 && keys.size() < reports + 2 && scheduler.Running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    keys = ObjectKeys("analytics/migration_reports/");
  }
  EXPECT_EQ(scheduler.Stop(), 0) << scheduler.Output();
  RunCommand(clear, &out);
  ASSERT_GE(keys.size(), reports + 2) << scheduler.Output();
  aws::S3Client s3(std::make_shared<aws::AwsClient>(Admin("s3"), aws::MakeCurlTransport()));
  std::set<std::string> modes;
  for (const auto& key : keys) {
    auto text = s3.GetObjectString(kBucket, key);
    json report = text.ok() ? json::parse(*text, nullptr, false) : json();
    if (report.is_object() && report["migration_status"] == "SUCCESS") modes.insert(report["mode"]);
  }
  EXPECT_TRUE(modes.count("backup") && modes.count("sync")) << scheduler.Output();
  EXPECT_EQ(moto_->Refusals(), refused) << scheduler.Output();
}

TEST_F(IamPolicyTest, EachModeRunsAsAUserHoldingOnlyItsPolicy) {
  ExpectRun("setup", "--mode setup", 0, "created        S3 bucket " + kBucket);
  ExpectRun("setup", "--mode setup --with-stream", 0, "created        replication slot iam_" + s_);
  ExpectRun("migrate", "--mode migrate", 0, ": SUCCESS");
  SyncBackupVerifyRestore();
  Stream();
  Api();
  Scheduler();
  // Every request of every user, as AWS would check it against the user's policy.
  const std::string keys = "/tmp/di-iam-keys-" + s_ + ".json";
  std::ofstream(keys) << keys_.dump();
  std::string pairs, out;
  for (const char* mode : kModes) pairs += std::string(" ") + mode + "=" + Policy(mode);
  const int rc =
      RunCommand(VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/iam_audit.py " +
                     moto_->recording() + " " + keys + pairs,
                 &out);
  std::remove(keys.c_str());
  EXPECT_EQ(rc, 0) << out;
  std::cout << out;
}

TEST_F(IamPolicyTest, AMissingPermissionIsNamedWithItsResource) {
  std::string out;
  EXPECT_EQ(Run("setup-without-CreateTable", "--mode setup", &out), 1) << out;
  EXPECT_NE(out.find("DynamoDB CreateTable cinema-"), std::string::npos) << out;
  EXPECT_NE(out.find("AccessDenied"), std::string::npos) << out;
  EXPECT_NE(out.find("The credentials lack the permission dynamodb:CreateTable on table cinema-"),
            std::string::npos)
      << out;
  ASSERT_EQ(Run("setup", "--mode setup", &out), 0) << out;
  EXPECT_EQ(Run("backup-without-PutObject", "--mode backup", &out), 1) << out;
  EXPECT_NE(out.find("S3 PutObject s3://" + kBucket + "/backups/postgresql/iam_"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("lack the permission s3:PutObject on arn:aws:s3:::" + kBucket +
                     "/backups/postgresql/iam_"),
            std::string::npos)
      << out;
  EXPECT_EQ(Run("verify-without-Scan", "--mode verify", &out), 1) << out;
  EXPECT_NE(out.find("lack the permission dynamodb:Scan on table cinema-"), std::string::npos)
      << out;
}

// What docs/iam/README.md says moto checks, and how.
TEST_F(IamPolicyTest, MotoChecksWhatTheDocsSay) {
  std::string out;
  ASSERT_EQ(RunCommand(VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/iam_probe.py " +
                           moto_->endpoint() + " " + keys_["admin"]["id"].get<std::string>() + " " +
                           keys_["admin"]["secret"].get<std::string>(),
                       &out),
            0)
      << out;
  json probe = json::parse(out.substr(out.rfind('{')), nullptr, false);
  ASSERT_TRUE(probe.is_object()) << out;
  std::cout << "moto, as probed: " << probe.dump() << "\n";
  EXPECT_EQ(probe["unenforced_actions"], json::array()) << out;
  EXPECT_EQ(probe["unenforced_resources"], json::array()) << out;
  EXPECT_EQ(probe["refused_when_scoped"],
            json({"dynamodb:BatchWriteItem", "dynamodb:CreateTable", "dynamodb:DescribeTable",
                  "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "s3:DeleteObjects"}))
      << out;
  EXPECT_EQ(probe["aws_names_refused"],
            json({"s3:CompleteMultipartUpload", "s3:CreateMultipartUpload", "s3:DeleteObjects",
                  "s3:HeadBucket", "s3:ListObjectsV2", "s3:UploadPart"}))
      << out;
}

}  // namespace
}  // namespace di::testing
