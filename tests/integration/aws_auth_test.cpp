// Signatures checked for real: a moto server of our own with request authentication on
// (INITIAL_NO_AUTH_ACTION_COUNT), an access key made through its IAM API. A correct
// signature passes; a wrong secret or an unknown key fails with a clear error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "stack_env.h"

namespace di::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class MotoAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    port_ = FreePort();
    endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      setenv("INITIAL_NO_AUTH_ACTION_COUNT", "3", 1);
      std::string bin = std::string(DI_SOURCE_DIR) + "/.venv/bin/moto_server";
      std::string port = std::to_string(port_);
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(bin.c_str(), bin.c_str(), "-H", "127.0.0.1", "-p", port.c_str(), nullptr);
      _exit(127);
    }
    std::string out;
    for (int i = 0; i < 150; ++i) {
      if (RunCommand("curl -sf -o /dev/null " + endpoint_ + "/moto-api/data.json", &out) == 0)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    int rc = RunCommand(VenvPython() + " " + DI_SOURCE_DIR +
                            "/tests/integration/moto_auth_setup.py " + endpoint_ + " 2>/dev/null",
                        &out);
    if (rc == 0) {
      auto j = nlohmann::json::parse(out, nullptr, false);
      if (j.is_object()) key_ = {j["id"], j["secret"], ""};
    } else {
      setup_error_ = out;
    }
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  void SetUp() override {
    ASSERT_FALSE(key_.access_key_id.empty())
        << "moto with authentication did not start: " << setup_error_;
  }
  static aws::ServiceOptions Options(const std::string& service, aws::Credentials c) {
    aws::ServiceOptions o = StackService(service);
    o.endpoint = endpoint_;
    o.credentials = std::move(c);
    return o;
  }

  static inline int port_ = 0;
  static inline pid_t pid_ = -1;
  static inline std::string endpoint_;
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
