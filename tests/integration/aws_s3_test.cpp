// S3Client against the stack's moto, with the AWS CLI as the independent reader.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "aws/crypto.h"
#include "aws/s3_client.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using aws::S3Client;

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<aws::AwsClient>(StackService("s3"), aws::MakeCurlTransport());
    s3_ = std::make_unique<S3Client>(client_);
    bucket_ = UniqueName("di-s3-test");
    auto made = s3_->CreateBucket(bucket_);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }
  std::string CliSha256(const std::string& key) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "s3 cp 's3://" + bucket_ + "/" + key + "' - | sha256sum", &out),
              0)
        << out;
    return out.substr(0, 64);
  }
  static std::string RandomBytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  }

  std::shared_ptr<aws::AwsClient> client_;
  std::unique_ptr<S3Client> s3_;
  std::string bucket_;
};

TEST_F(S3Test, CreateBucketIsIdempotentAndHeadBucketSeesIt) {
  auto again = s3_->CreateBucket(bucket_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*s3_->BucketExists(bucket_));
  EXPECT_FALSE(*s3_->BucketExists(UniqueName("di-absent")));
}

TEST_F(S3Test, PutObjectReadsBackByteIdenticalThroughTheAwsCli) {
  std::string body = RandomBytes(100000, 1) + "ñandú 🎬\n";
  std::string key = "backups/mysql/rooms/20260101T000000Z/part-00000 ñ+x.jsonl.gz";
  ASSERT_TRUE(s3_->PutObject(bucket_, key, body, {"application/gzip", "AES256"}).ok());
  EXPECT_EQ(CliSha256(key), aws::Sha256Hex(body));
  auto back = s3_->GetObjectString(bucket_, key);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, body);
  std::string head;
  ASSERT_EQ(RunCommand(AwsCli() + "s3api head-object --bucket " + bucket_ + " --key '" + key + "'",
                       &head),
            0)
      << head;
  EXPECT_NE(head.find("\"ServerSideEncryption\": \"AES256\""), std::string::npos) << head;
  EXPECT_NE(head.find("application/gzip"), std::string::npos) << head;
}

TEST_F(S3Test, MultipartUploadOfFourPartsStreamsWithBoundedBuffer) {
  const size_t part = aws::S3MultipartWriter::kMinPartSize;
  std::string body = RandomBytes(3 * part + 12345, 2);
  std::string key = "multi/object.bin";
  {
    aws::S3MultipartWriter w(*s3_, bucket_, key, {"application/octet-stream", "AES256"}, part);
    for (size_t off = 0; off < body.size(); off += 1 << 20)
      ASSERT_TRUE(w.Write(std::string_view(body).substr(off, 1 << 20)).ok());
    ASSERT_TRUE(w.Finish().ok());
    EXPECT_EQ(w.parts_uploaded(), 4u);
    EXPECT_EQ(w.bytes_written(), body.size());
  }
  EXPECT_EQ(CliSha256(key), aws::Sha256Hex(body));
  std::string out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3api head-object --bucket " + bucket_ + " --key " + key, &out),
            0);
  EXPECT_NE(out.find("-4\\\""), std::string::npos) << "ETag of a 4-part upload: " << out;
}

TEST_F(S3Test, SmallWriterFallsBackToOnePut) {
  aws::S3MultipartWriter w(*s3_, bucket_, "small.txt", {});
  ASSERT_TRUE(w.Write("hello").ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(*s3_->GetObjectString(bucket_, "small.txt"), "hello");
}

TEST_F(S3Test, ListObjectsPaginatesAndDeleteObjectsRemovesAll) {
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    keys.push_back("list/k" + std::to_string(100 + i));
    ASSERT_TRUE(s3_->PutObject(bucket_, keys.back(), "x" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(s3_->PutObject(bucket_, "other/z", "z").ok());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = s3_->ListObjectsV2(bucket_, "list/", token, 10);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& o : page->objects) seen.push_back(o.key);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, keys);
  auto prefixes = s3_->ListObjectsV2(bucket_, "", "", 1000, "/");
  ASSERT_TRUE(prefixes.ok());
  EXPECT_EQ(prefixes->common_prefixes, (std::vector<std::string>{"list/", "other/"}));
  ASSERT_TRUE(s3_->DeleteObjects(bucket_, keys).ok());
  auto all = s3_->ListAll(bucket_, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, "other/z");
}

TEST_F(S3Test, OneClientServesManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        std::string key = "conc/" + std::to_string(t) + "-" + std::to_string(i);
        if (!s3_->PutObject(bucket_, key, RandomBytes(4096, t * 100 + i)).ok()) failures++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  auto all = s3_->ListAll(bucket_, "conc/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 64u);
  EXPECT_EQ(*s3_->GetObjectString(bucket_, "conc/3-5"), RandomBytes(4096, 305));
}

TEST_F(S3Test, MissingBucketSaysToRunSetup) {
  std::string missing = UniqueName("di-missing");
  Status s = s3_->PutObject(missing, "k", "v");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("NoSuchBucket"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--mode setup"), std::string::npos) << s.message();
  auto get = s3_->GetObjectString(bucket_, "no/such/key");
  EXPECT_EQ(get.status().code(), StatusCode::kNotFound);
  EXPECT_NE(get.status().message().find("NoSuchKey"), std::string::npos);
}

}  // namespace
}  // namespace di::testing
