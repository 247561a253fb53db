// `--mode migrate`: the cinema data into the four DynamoDB tables, checked against the
// sources through boto3, psql and pymongo; dead letters and failing batches end PARTIAL.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <nlohmann/json.hpp>

#include "aws/clients.h"
#include "aws/fault_transport.h"
#include "pipeline/run.h"
#include "pipeline/setup.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;

struct Names {
  std::string suffix = UniqueName("mig");
  std::string bucket = "di-" + suffix;
  std::string Env() const {
    return "S3_BUCKET_NAME=" + bucket + " DYNAMODB_MOVIES_TABLE=movies-" + suffix +
           " DYNAMODB_ROOMS_TABLE=rooms-" + suffix + " DYNAMODB_RESERVATIONS_TABLE=res-" + suffix +
           " DYNAMODB_USERS_TABLE=users-" + suffix + " DYNAMODB_STATE_TABLE=state-" + suffix;
  }
};

std::string Base() {
  // The stack's settings (stack.env) for the binary and the checker.
  return StackEnvShell();
}

TEST(Migrate, CinemaDataLandsInDynamoDbWithExactValues) {
  Names n;
  std::string out;
  ASSERT_EQ(RunCommand(Base() + "env " + n.Env() + " " + DI_BINARY + " --mode setup", &out), 0)
      << out;
  ASSERT_EQ(
      RunCommand(Base() + "env " + n.Env() + " WORKERS=4 " + DI_BINARY + " --mode migrate", &out),
      0)
      << out;
  EXPECT_NE(out.find(": SUCCESS, "), std::string::npos) << out;
  ASSERT_EQ(RunCommand(Base() + VenvPython() + " " + DI_SOURCE_DIR +
                           "/tests/integration/check_migration.py " +
                           StackConfig().aws.endpoint_url + " movies-" + n.suffix + " rooms-" +
                           n.suffix + " res-" + n.suffix + " users-" + n.suffix,
                       &out),
            0)
      << out;
  EXPECT_EQ(out, "OK\n");
  // Running it again upserts: the same counts, nothing duplicated.
  ASSERT_EQ(RunCommand(Base() + "env " + n.Env() + " " + DI_BINARY + " --mode migrate", &out), 0)
      << out;
  ASSERT_EQ(
      RunCommand(AwsCli() + "dynamodb scan --select COUNT --table-name res-" + n.suffix, &out), 0);
  EXPECT_EQ(json::parse(out)["Count"], 10000 * CinemaScale());
}

TEST(Migrate, OversizedDocumentGoesToDeadLetterAndTheRunIsPartial) {
  Names n;
  std::string out;
  ASSERT_EQ(RunCommand(Base() + "env " + n.Env() + " " + DI_BINARY + " --mode setup", &out), 0)
      << out;
  mongoc_init();
  mongoc_client_t* client = mongoc_client_new(StackConfig().mongo.uri.c_str());
  mongoc_collection_t* coll =
      mongoc_client_get_collection(client, StackConfig().mongo.database.c_str(), "movies");
  std::string big(450 * 1024, 'x');
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "ffffffffffffffffffffffff");
  bson_t* doc =
      BCON_NEW("_id", BCON_OID(&oid), "title", BCON_UTF8("huge"), "plot", BCON_UTF8(big.c_str()));
  bson_error_t e;
  ASSERT_TRUE(mongoc_collection_insert_one(coll, doc, nullptr, nullptr, &e)) << e.message;
  int rc = RunCommand(Base() + "env " + n.Env() + " " + DI_BINARY + " --mode migrate", &out);
  bson_t* sel = BCON_NEW("_id", BCON_OID(&oid));
  mongoc_collection_delete_one(coll, sel, nullptr, nullptr, &e);
  bson_destroy(sel);
  bson_destroy(doc);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find(": PARTIAL, "), std::string::npos) << out;
  EXPECT_NE(out.find("50 items written, 1 dead-lettered"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3 ls --recursive s3://" + n.bucket + "/analytics/dead_letters/",
                       &out),
            0)
      << out;
  std::string key = out.substr(out.find("analytics/"));
  key = key.substr(0, key.find('\n'));
  ASSERT_EQ(RunCommand(AwsCli() + "s3 cp s3://" + n.bucket + "/" + key + " -", &out), 0) << out;
  json letter = json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(letter["key"], json({{"$oid", "ffffffffffffffffffffffff"}}));  // the _id, typed
  EXPECT_NE(letter["reason"].get<std::string>().find("over DynamoDB's 400 KB"), std::string::npos);
}

TEST(Migrate, ABatchFailingEveryRetryIsRecordedAndTheRunIsPartial) {
  Names n;
  Config config = StackConfig();
  config.s3.bucket = n.bucket;
  config.dynamodb = {"movies-" + n.suffix, "rooms-" + n.suffix, "res-" + n.suffix,
                     "users-" + n.suffix, "state-" + n.suffix};
  config.run.retry_delay = std::chrono::milliseconds(1);
  auto fault = std::make_shared<aws::FaultTransport>(aws::MakeCurlTransport());
  auto clients = aws::MakeAwsClients(config, Env::FromMap({}), fault);
  ASSERT_TRUE(clients.ok()) << clients.status().ToString();
  ASSERT_TRUE(
      RunSetup(config, CinemaMapping(config.dynamodb), *clients->s3, *clients->dynamodb).ok());
  const std::string users = config.dynamodb.users_table;
  fault->AddRule([&](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
    if (!aws::FaultTransport::IsTarget(r, "BatchWriteItem") ||
        r.body.find(users) == std::string::npos)
      return false;
    *out = aws::FaultTransport::DynamoError(500, "InternalServerError");
    return true;
  });
  auto store = MakeS3Store(*clients->s3, config.s3.bucket, config.s3.sse);
  std::vector<TableMapping> mapping;
  for (auto& m : CinemaMapping(config.dynamodb))
    if (m.table == "users" || m.table == "rooms") mapping.push_back(m);
  ServerSources sources(config);
  DynamoStateStore state(*clients->dynamodb, config.dynamodb.state_table);
  RunWorld world{config, sources, *store, &state, clients->dynamodb.get()};
  RunOutcome o = RunMigrate(world, mapping, [](const std::string&) {});
  EXPECT_EQ(o.status, RunState::kPartial);
  bool saw_users = false;
  for (const auto& t : o.report["tables"]) {
    if (t["kind"] != "dynamodb") continue;
    if (t["table"] == "users") {
      saw_users = true;
      EXPECT_EQ(t["status"], "PARTIAL");
      EXPECT_EQ(t["failed_items"], 1000 * CinemaScale());
      EXPECT_NE(t["error"].get<std::string>().find("InternalServerError"), std::string::npos)
          << t.dump();
    } else {
      EXPECT_EQ(t["status"], "SUCCESS") << t.dump();  // the other table went on
    }
  }
  EXPECT_TRUE(saw_users);
  EXPECT_FALSE(o.report_key.empty());
}

// A batch whose write fails every retry still stores its dead letters (they were counted and
// dropped: the write's failure skipped their object).
TEST(Migrate, DeadLettersOfABatchWhoseWriteFailsAreStored) {
  Names n;
  Config config = StackConfig();
  config.s3.bucket = n.bucket;
  config.dynamodb.state_table = "state-" + n.suffix;
  config.run.retry_delay = std::chrono::milliseconds(1);
  PsqlOn(config.postgres.database,
         "DROP TABLE IF EXISTS dl_test; CREATE TABLE dl_test (id int PRIMARY KEY, k text, v "
         "text); INSERT INTO dl_test SELECT g, CASE WHEN g = 3 THEN NULL ELSE 'k' || g END, 'v' "
         "FROM generate_series(1, 5) g");
  struct Drop {
    ~Drop() { PsqlOn(StackConfig().postgres.database, "DROP TABLE IF EXISTS dl_test"); }
  } drop;
  auto mapping = ParseMapping(R"({"tables": [{"source": "postgresql", "table": "dl_test",
      "dynamodb": {"table": "dl-)" +
                                  n.suffix + R"(", "key": {"k": "k"}}}]})",
                              "test mapping");
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  auto fault = std::make_shared<aws::FaultTransport>(aws::MakeCurlTransport());
  auto clients = aws::MakeAwsClients(config, Env::FromMap({}), fault);
  ASSERT_TRUE(clients.ok()) << clients.status().ToString();
  ASSERT_TRUE(RunSetup(config, *mapping, *clients->s3, *clients->dynamodb).ok());
  fault->AddRule([&](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
    if (!aws::FaultTransport::IsTarget(r, "BatchWriteItem")) return false;
    *out = aws::FaultTransport::DynamoError(500, "InternalServerError");
    return true;
  });
  auto store = MakeS3Store(*clients->s3, config.s3.bucket, config.s3.sse);
  ServerSources sources(config);
  DynamoStateStore state(*clients->dynamodb, config.dynamodb.state_table);
  RunWorld world{config, sources, *store, &state, clients->dynamodb.get()};
  RunOutcome o = RunMigrate(world, *mapping, [](const std::string&) {});
  EXPECT_EQ(o.status, RunState::kPartial);
  ASSERT_EQ(o.migrations.size(), 1u);
  EXPECT_EQ(o.migrations[0].failed, 4);
  EXPECT_EQ(o.migrations[0].dead_lettered, 1);
  std::string out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3 ls --recursive s3://" + n.bucket + "/analytics/dead_letters/",
                       &out),
            0)
      << out;
  ASSERT_NE(out.find("postgresql.dl_test/rows-000000000000.jsonl"), std::string::npos) << out;
  std::string key = out.substr(out.find("analytics/"));
  key = key.substr(0, key.find('\n'));
  ASSERT_EQ(RunCommand(AwsCli() + "s3 cp s3://" + n.bucket + "/" + key + " -", &out), 0) << out;
  json letter = json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(letter["reason"], "empty key k") << out;
}

}  // namespace
}  // namespace di::testing
