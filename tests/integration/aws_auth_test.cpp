// Signatures checked for real: a moto server of our own with request authentication on
// (moto_server.h), an access key made through its IAM API. A correct signature passes; a
// wrong secret or an unknown key fails with a clear error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "moto_server.h"
#include "stack_env.h"

namespace di::testing {
namespace {

class MotoAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    moto_ = std::make_unique<MotoServer>();
    auto keys = moto_->MakeUsers(nlohmann::json::array(), &setup_error_);
    if (keys.is_object()) key_ = {keys["admin"]["id"], keys["admin"]["secret"], ""};
  }
  static void TearDownTestSuite() { moto_.reset(); }
  void SetUp() override {
    ASSERT_FALSE(key_.access_key_id.empty()) << "moto with authentication: " << setup_error_;
  }
  static aws::ServiceOptions Options(const std::string& service, aws::Credentials c) {
    aws::ServiceOptions o = StackService(service);
    o.endpoint = moto_->endpoint();
    o.credentials = std::move(c);
    return o;
  }

  static inline std::unique_ptr<MotoServer> moto_;
  static inline aws::Credentials key_;
  static inline std::string setup_error_;
};

TEST_F(MotoAuthTest, CorrectSignaturesPass) {
  aws::S3Client s3(std::make_shared<aws::AwsClient>(Options("s3", key_), aws::MakeCurlTransport()));
  ASSERT_TRUE(s3.CreateBucket("auth-bucket").ok());
  ASSERT_TRUE(s3.PutObject("auth-bucket", "dir/ñ file+1.txt", "signed body").ok());
  auto back = s3.GetObjectString("auth-bucket", "dir/ñ file+1.txt");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "signed body");
  auto page = s3.ListObjectsV2("auth-bucket", "dir/", "", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->objects.size(), 1u);
  aws::DynamoDbClient ddb(
      std::make_shared<aws::AwsClient>(Options("dynamodb", key_), aws::MakeCurlTransport()));
  auto made = ddb.CreateTable({"auth-table", {"id", "S"}, std::nullopt, {}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_TRUE(ddb.PutItem("auth-table", {{"id", {{"S", "x"}}}}).ok());
}

TEST_F(MotoAuthTest, AWrongSecretIsRefused) {
  aws::Credentials bad = key_;
  bad.secret_access_key += "x";
  aws::S3Client s3(std::make_shared<aws::AwsClient>(Options("s3", bad), aws::MakeCurlTransport()));
  Status s = s3.PutObject("auth-bucket", "k", "v");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.message();
  aws::DynamoDbClient ddb(
      std::make_shared<aws::AwsClient>(Options("dynamodb", bad), aws::MakeCurlTransport()));
  auto t = ddb.ListTables();
  EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated) << t.status().ToString();
}

TEST_F(MotoAuthTest, AnUnknownKeyIsRefused) {
  aws::S3Client s3(std::make_shared<aws::AwsClient>(
      Options("s3", {"AKIANOSUCHKEY0000000", "x", ""}), aws::MakeCurlTransport()));
  Status s = s3.PutObject("auth-bucket", "k", "v");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("InvalidAccessKeyId"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace di::testing
