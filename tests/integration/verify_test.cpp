// Crash and verify: `migrate` killed with SIGKILL at several points and started again ends
// with exactly the source's rows in DynamoDB and a complete backup (verify finds nothing);
// then tampering with DynamoDB and the source is reported key by key, exit code 1.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::string out;
    EXPECT_EQ(Reseed(&out), 0) << out;
  }
  std::string Env() {
    return StackEnvShell() + "export S3_BUCKET_NAME=di-" + s_ + " DYNAMODB_MOVIES_TABLE=movies-" +
           s_ + " DYNAMODB_ROOMS_TABLE=rooms-" + s_ + " DYNAMODB_RESERVATIONS_TABLE=res-" + s_ +
           " DYNAMODB_USERS_TABLE=users-" + s_ + " DYNAMODB_STATE_TABLE=state-" + s_ +
           " WORKERS=3 BATCH_SIZE=500 && ";
  }
  std::string s_ = UniqueName("ver");
};

TEST_F(VerifyTest, KilledMigrationsRerunToAnExactCopyAndTamperingIsFound) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  // SIGKILL at several points of a migration, each followed by nothing: the next run must
  // still end with an exact copy. The points are checkpoints (the process kills itself right
  // after its N-th), never a wall-clock delay a fast or slow machine could outrun; each run
  // resumes the last, and 1 + 2 + 3 is well under the run's 24 checkpoints at scale 1.
  for (const char* when : {"1", "2", "3"}) {
    int rc = RunCommand(
        Env() + "DI_CRASH_AFTER_CHECKPOINTS=" + when + " " + DI_BINARY + " --mode migrate", &out);
    EXPECT_EQ(rc, 137) << "killed after checkpoint " << when << ": " << out;  // 128 + SIGKILL
  }
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_EQ(out.find("MISMATCH"), std::string::npos) << out;
  EXPECT_NE(out.find("OK        postgresql.reservations: source 10000, dynamodb 10000, backup"),
            std::string::npos)
      << out;
  // Killed runs left no manifest: every manifest's parts exist and hash right (verify
  // checked the latest); no temporary object is listed as a backup.
  ASSERT_EQ(RunCommand(AwsCli() + "s3api list-multipart-uploads --bucket di-" + s_, &out), 0);

  // Tamper: one item gone, one changed in DynamoDB, one row changed in the source.
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb delete-item --table-name users-" + s_ +
                           " --key '{\"user_id\":{\"N\":\"42\"}}'",
                       &out),
            0)
      << out;
  ASSERT_EQ(
      RunCommand(
          AwsCli() + "dynamodb update-item --table-name users-" + s_ +
              " --key '{\"user_id\":{\"N\":\"43\"}}' --update-expression 'SET full_name = :n' "
              "--expression-attribute-values '{\":n\":{\"S\":\"changed\"}}'",
          &out),
      0)
      << out;
  PgPtr pg = ConnectPg();
  PQclear(PQexec(pg.get(), "UPDATE users SET loyalty_points = loyalty_points + 1 WHERE id = 44"));
  EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify --table users --table rooms", &out), 1)
      << out;
  EXPECT_NE(out.find("MISMATCH  postgresql.users: source 1000, dynamodb 999"), std::string::npos)
      << out;
  EXPECT_NE(out.find("missing in DynamoDB: 42"), std::string::npos) << out;
  EXPECT_NE(out.find("different in DynamoDB: 43"), std::string::npos) << out;
  EXPECT_NE(out.find("different in DynamoDB: 44"), std::string::npos) << out;
  EXPECT_NE(out.find("different in backup"), std::string::npos) << out;
  EXPECT_NE(out.find("OK        mysql.rooms"), std::string::npos) << out;
  EXPECT_EQ(out.find("reservations"), std::string::npos) << out;  // --table selects
}

TEST_F(VerifyTest, AKilledMigrationIsResumedFromItsLastCheckpoint) {
  std::string mapping = "/tmp/" + s_ + "-mapping.json";
  {
    std::ofstream(mapping) << R"({"tables": [
      {"source": "postgresql", "table": "users",
       "dynamodb": {"table": "users-)" +
                                  s_ + R"(", "key": {"user_id": "id"},
                    "indexes": [{"name": "email-index", "hash": "email"}]}},
      {"source": "mysql", "table": "rooms"}]})";
  }
  std::string env = Env() + "export MAPPING_FILE=" + mapping + " BATCH_SIZE=100 && ";
  std::string out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode setup", &out), 0) << out;
  // Killed right after its 4th checkpoint (400 users written and recorded).
  EXPECT_EQ(RunCommand(env + "DI_CRASH_AFTER_CHECKPOINTS=4 " + DI_BINARY + " --mode migrate", &out),
            137)
      << out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode migrate", &out), 0) << out;
  size_t at = out.find("[migrate] resuming run ");
  ASSERT_NE(at, std::string::npos) << out;
  std::string run_id = out.substr(at + 23, out.find(',', at) - at - 23);
  EXPECT_NE(out.find("postgresql.users: resuming after 400 rows"), std::string::npos) << out;
  // The counts cover the whole table: 400 before the kill + 600 after.
  EXPECT_NE(out.find("postgresql.users -> users-" + s_ + ": 1000 items written"), std::string::npos)
      << out;
  EXPECT_NE(out.find("migrate " + run_id + ": SUCCESS"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_NE(out.find("OK        postgresql.users: source 1000, dynamodb 1000, backup " + run_id),
            std::string::npos)
      << out;
  // That run finished: the next migrate is a new one.
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_EQ(out.find("resuming"), std::string::npos) << out;
  std::remove(mapping.c_str());
}

}  // namespace
}  // namespace di::testing
