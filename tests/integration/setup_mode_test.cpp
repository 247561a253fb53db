// `data-ingestion --mode setup` against the stack's moto, checked through the AWS CLI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

class SetupModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Config& c = StackConfig();
    suffix_ = UniqueName("t");
    env_ = "env -i PATH=/usr/bin:/bin HOME=/nonexistent AWS_ENDPOINT_URL=" + c.aws.endpoint_url +
           " AWS_ACCESS_KEY_ID=" + c.aws.access_key_id +
           " AWS_SECRET_ACCESS_KEY=" + c.aws.secret_access_key + " S3_BUCKET_NAME=di-setup-" +
           suffix_ + " DYNAMODB_MOVIES_TABLE=movies-" + suffix_ + " DYNAMODB_ROOMS_TABLE=rooms-" +
           suffix_ + " DYNAMODB_RESERVATIONS_TABLE=reservations-" + suffix_ +
           " DYNAMODB_USERS_TABLE=users-" + suffix_ + " DYNAMODB_STATE_TABLE=state-" + suffix_ +
           " ";
  }
  nlohmann::json Describe(const std::string& table) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb describe-table --table-name " + table, &out), 0)
        << out;
    return nlohmann::json::parse(out, nullptr, false)["Table"];
  }
  static std::string KeyOf(const nlohmann::json& schema, const char* type) {
    for (const auto& k : schema)
      if (k["KeyType"] == type) return k["AttributeName"];
    return "";
  }
  std::string suffix_, env_;
};

TEST_F(SetupModeTest, CreatesBucketAndTablesWithTheirIndexesOnceOnly) {
  std::string out;
  ASSERT_EQ(RunCommand(env_ + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_NE(out.find("created        S3 bucket di-setup-" + suffix_), std::string::npos) << out;
  EXPECT_NE(out.find("created        DynamoDB table reservations-" + suffix_ +
                     " (indexes: user_id-index movie_id-index)"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunCommand(AwsCli() + "s3api head-bucket --bucket di-setup-" + suffix_, &out), 0)
      << out;

  struct Want {
    std::string table, hash, index, index_hash, index_range;
  };
  const Want wants[] = {
      {"movies-" + suffix_, "movie_id", "genre-index", "genre", "release_date"},
      {"rooms-" + suffix_, "room_id", "screen_type-index", "screen_type", ""},
      {"reservations-" + suffix_, "reservation_id", "user_id-index", "user_id", "created_at"},
      {"reservations-" + suffix_, "reservation_id", "movie_id-index", "movie_id", "created_at"},
      {"users-" + suffix_, "user_id", "email-index", "email", ""},
  };
  for (const auto& w : wants) {
    nlohmann::json t = Describe(w.table);
    EXPECT_EQ(t["TableStatus"], "ACTIVE") << w.table;
    EXPECT_EQ(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST") << w.table;
    EXPECT_EQ(KeyOf(t["KeySchema"], "HASH"), w.hash) << w.table;
    bool found = false;
    for (const auto& g : t["GlobalSecondaryIndexes"]) {
      if (g["IndexName"] != w.index) continue;
      found = true;
      EXPECT_EQ(KeyOf(g["KeySchema"], "HASH"), w.index_hash);
      EXPECT_EQ(KeyOf(g["KeySchema"], "RANGE"), w.index_range);
    }
    EXPECT_TRUE(found) << w.table << " lacks " << w.index;
  }
  nlohmann::json state = Describe("state-" + suffix_);
  EXPECT_EQ(KeyOf(state["KeySchema"], "HASH"), "pk");
  EXPECT_EQ(KeyOf(state["KeySchema"], "RANGE"), "sk");

  ASSERT_EQ(RunCommand(env_ + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_EQ(out.find("created "), std::string::npos) << out;
  EXPECT_NE(out.find("already there  S3 bucket di-setup-" + suffix_), std::string::npos) << out;
}

TEST_F(SetupModeTest, NoCredentialsIsAClearError) {
  std::string out;
  EXPECT_EQ(RunCommand("env -i PATH=/usr/bin:/bin HOME=/nonexistent " + std::string(DI_BINARY) +
                           " --mode setup",
                       &out),
            1);
  EXPECT_NE(out.find("no AWS credentials found"), std::string::npos) << out;
  EXPECT_NE(out.find("/nonexistent/.aws/credentials (file not found)"), std::string::npos) << out;
}

TEST_F(SetupModeTest, UnreachableEndpointNamesIt) {
  std::string out;
  EXPECT_EQ(RunCommand("env -i PATH=/usr/bin:/bin AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b "
                       "AWS_ENDPOINT_URL=http://127.0.0.1:1 MAX_RETRIES=1 RETRY_DELAY=10ms " +
                           std::string(DI_BINARY) + " --mode setup",
                       &out),
            1);
  EXPECT_NE(out.find("127.0.0.1:1"), std::string::npos) << out;
  EXPECT_NE(out.find("after 2 attempts"), std::string::npos) << out;
}

}  // namespace
}  // namespace di::testing
