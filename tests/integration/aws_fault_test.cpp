// Faults injected through the transport interface in front of the real moto: throttling,
// connection resets mid-upload and 5xx storms. Waits run on a fake clock.
#include <gtest/gtest.h>

#include <random>

#include "aws/crypto.h"
#include "aws/dynamodb_client.h"
#include "aws/fault_transport.h"
#include "aws/s3_client.h"
#include "sinks/object_store.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using aws::FaultTransport;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fault_ = std::make_shared<FaultTransport>(aws::MakeCurlTransport());
    auto s3_opts = StackService("s3");
    s3_opts.retry.base_delay = std::chrono::milliseconds(1000);
    s3_client_ = std::make_shared<aws::AwsClient>(s3_opts, fault_, clock_);
    s3_ = std::make_unique<aws::S3Client>(s3_client_);
    auto ddb_opts = StackService("dynamodb");
    ddb_opts.retry.base_delay = std::chrono::milliseconds(1000);
    ddb_client_ = std::make_shared<aws::AwsClient>(ddb_opts, fault_, clock_);
    ddb_ = std::make_unique<aws::DynamoDbClient>(ddb_client_, clock_);
    bucket_ = UniqueName("di-fault");
    ASSERT_TRUE(s3_->CreateBucket(bucket_).ok());
  }
  static std::string Bytes(size_t n) {
    std::mt19937_64 rng(42);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }
  bool ObjectListed(const std::string& key) {
    auto all = s3_->ListAll(bucket_, key);
    return all.ok() && !all->empty();
  }
  int OpenUploads() {
    std::string out;
    if (RunCommand(AwsCli() + "s3api list-multipart-uploads --bucket " + bucket_ +
                       " --query 'length(Uploads || `[]`)'",
                   &out) != 0)
      return -1;
    return std::atoi(out.c_str());
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  std::shared_ptr<FaultTransport> fault_;
  std::shared_ptr<aws::AwsClient> s3_client_, ddb_client_;
  std::unique_ptr<aws::S3Client> s3_;
  std::unique_ptr<aws::DynamoDbClient> ddb_;
  std::string bucket_;
};

TEST_F(FaultTest, ThrottlingThenSuccess) {
  std::string table = UniqueName("di-fault");
  ASSERT_TRUE(ddb_->CreateTable({table, {"id", "S"}, std::nullopt, {}}).ok());
  fault_->AddRule(
      [](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
        if (!FaultTransport::IsTarget(r, "PutItem")) return false;
        *out = FaultTransport::DynamoError(400, "ThrottlingException");
        return true;
      },
      2);
  uint64_t retries_before = ddb_client_->stats().retries;
  ASSERT_TRUE(ddb_->PutItem(table, {{"id", {{"S", "a"}}}}).ok());
  EXPECT_EQ(ddb_client_->stats().retries - retries_before, 2u);
  EXPECT_EQ(ddb_client_->stats().throttled, 2u);
  EXPECT_GT(clock_.slept().count(), 0);            // it backed off...
  EXPECT_LE(clock_.slept().count(), 1000 + 2000);  // ...within full jitter of 1s then 2s
  auto got = ddb_->GetItem(table, {{"id", {{"S", "a"}}}});
  ASSERT_TRUE(got.ok() && got->has_value());
  (void)ddb_->DeleteTable(table);
}

TEST_F(FaultTest, ConnectionResetMidUploadIsRetriedAndTheObjectIsWhole) {
  fault_->AddRule(
      [](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
        for (const auto& [k, v] : r.query)
          if (k == "partNumber" && v == "2") {
            *out = FaultTransport::ConnectionReset();
            return true;
          }
        return false;
      },
      1);
  const size_t part = aws::S3MultipartWriter::kMinPartSize;
  std::string body = Bytes(3 * part + 100);
  aws::S3MultipartWriter w(*s3_, bucket_, "reset.bin", {}, part);
  ASSERT_TRUE(w.Write(body).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(fault_->faults_injected(), 1);
  std::string out;
  RunCommand(AwsCli() + "s3 cp s3://" + bucket_ + "/reset.bin - | sha256sum", &out);
  EXPECT_EQ(out.substr(0, 64), aws::Sha256Hex(body));
}

TEST_F(FaultTest, A5xxStormExhaustsTheRetriesAndLeavesNoObject) {
  fault_->AddRule([](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
    if (!FaultTransport::HasQuery(r, "partNumber")) return false;
    *out = FaultTransport::S3Error(500, "InternalError");
    return true;
  });
  const size_t part = aws::S3MultipartWriter::kMinPartSize;
  aws::S3MultipartWriter w(*s3_, bucket_, "storm.bin", {}, part);
  Status s = w.Write(Bytes(2 * part));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("InternalError"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("UploadPart 1"), std::string::npos) << s.message();
  EXPECT_EQ(fault_->faults_injected(), s3_client_->options().retry.max_attempts);
  EXPECT_FALSE(ObjectListed("storm.bin"));  // nothing listed as complete
  EXPECT_EQ(OpenUploads(), 0);              // and the upload was aborted
}

TEST_F(FaultTest, ClientErrorsAreNotRetried) {
  fault_->AddRule([](const aws::HttpRequest&, Result<aws::HttpResponse>* out) {
    *out = FaultTransport::S3Error(400, "InvalidArgument");
    return true;
  });
  Status s = s3_->PutObject(bucket_, "k", "v");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fault_->faults_injected(), 1);
  EXPECT_EQ(clock_.slept().count(), 0);
}

TEST_F(FaultTest, ConnectionRefusedNamesTheHostAndAttempts) {
  auto opts = StackService("s3");
  opts.endpoint = "http://127.0.0.1:1";  // nothing listens there
  aws::AwsClient dead(opts, aws::MakeCurlTransport(), clock_);
  aws::S3Client s3(std::shared_ptr<aws::AwsClient>(&dead, [](aws::AwsClient*) {}));
  Status s = s3.PutObject("b", "k", "v");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("after 4 attempts"), std::string::npos) << s.message();
}

TEST_F(FaultTest, TheRetryBudgetStopsAnOutageFromMultiplyingLoad) {
  auto opts = StackService("s3");
  opts.retry.budget_tokens = 12;  // two retries' worth
  opts.retry.max_attempts = 10;
  aws::AwsClient client(opts, fault_, clock_);
  aws::S3Client s3(std::shared_ptr<aws::AwsClient>(&client, [](aws::AwsClient*) {}));
  fault_->AddRule([](const aws::HttpRequest&, Result<aws::HttpResponse>* out) {
    *out = FaultTransport::S3Error(503, "ServiceUnavailable");
    return true;
  });
  EXPECT_FALSE(s3.PutObject(bucket_, "a", "v").ok());
  EXPECT_EQ(client.stats().attempts, 3u);  // 1 + the 2 retries the budget allowed
  EXPECT_EQ(client.stats().budget_exhausted, 1u);
  EXPECT_FALSE(s3.PutObject(bucket_, "b", "v").ok());
  EXPECT_EQ(client.stats().attempts, 4u);  // no budget left: no retry at all
}

// A streamed read (ObjectStore::GetStream, as restore reads a part): a reset before the first
// byte is retried and the object arrives whole, once; a reset after bytes were handed on is
// not retried (the bytes would arrive twice) but fails.
TEST_F(FaultTest, AStreamedReadIsRetriedOnlyBeforeItsFirstByte) {
  std::string body = Bytes(3 * 1024 * 1024 + 7);
  ASSERT_TRUE(s3_->PutObject(bucket_, "stream.bin", body).ok());
  auto store = MakeS3Store(*s3_, bucket_, "");
  auto is_get = [](const aws::HttpRequest& r) {
    return r.method == "GET" && r.path.find("stream.bin") != std::string::npos;
  };
  fault_->AddRule(
      [&](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
        if (!is_get(r)) return false;
        *out = FaultTransport::ConnectionReset();
        return true;
      },
      1);
  std::string got;
  size_t pieces = 0;
  auto collect = [&](std::string_view piece) {
    got.append(piece);
    ++pieces;
    return Status::Ok();
  };
  Status s = store->GetStream("stream.bin", collect);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fault_->faults_injected(), 1);
  EXPECT_TRUE(got == body) << got.size() << " bytes of " << body.size();
  EXPECT_GT(pieces, 1u);  // handed on in pieces, not gathered

  fault_->AddRule(
      [&](const aws::HttpRequest& r, Result<aws::HttpResponse>* out) {
        if (!is_get(r)) return false;
        (void)r.on_body("partial");  // some bytes, then the connection drops
        *out = FaultTransport::ConnectionReset();
        return true;
      },
      1);
  got.clear();
  s = store->GetStream("stream.bin", collect);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(fault_->faults_injected(), 2);
  EXPECT_EQ(got, "partial");

  // A missing object is NotFound; the reader's error stops the read and is returned.
  EXPECT_EQ(store->GetStream("absent.bin", collect).code(), StatusCode::kNotFound);
  s = store->GetStream("stream.bin", [](std::string_view) { return Aborted("enough"); });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace di::testing
