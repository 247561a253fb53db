#include "config/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace di {
namespace {

TEST(Validate, IntInRange) {
  EXPECT_EQ(*ParseIntInRange("42", 1, 100), 42);
  EXPECT_EQ(*ParseIntInRange(" 7 ", 1, 100), 7);
  EXPECT_EQ(ParseIntInRange("abc", 1, 100).status().message(),
            "'abc' is not a number; expected a whole number from 1 to 100");
  EXPECT_EQ(ParseIntInRange("0", 1, 100).status().message(),
            "0 is out of range; expected a whole number from 1 to 100");
  EXPECT_FALSE(ParseIntInRange("99999999999999999999", 1, 100).ok());
  EXPECT_FALSE(ParseIntInRange("1.5", 1, 100).ok());
}

TEST(Validate, Durations) {
  using std::chrono::milliseconds;
  const milliseconds max = std::chrono::minutes(10);
  EXPECT_EQ(*ParseDuration("5", max), milliseconds(5000));
  EXPECT_EQ(*ParseDuration("2.5", max), milliseconds(2500));
  EXPECT_EQ(*ParseDuration("500ms", max), milliseconds(500));
  EXPECT_EQ(*ParseDuration("5s", max), milliseconds(5000));
  EXPECT_EQ(*ParseDuration("2m", max), milliseconds(120000));
  EXPECT_EQ(*ParseDuration("0", max), milliseconds(0));
  EXPECT_FALSE(ParseDuration("-1", max).ok());
  EXPECT_FALSE(ParseDuration("five", max).ok());
  EXPECT_FALSE(ParseDuration("5h", max).ok());
  EXPECT_FALSE(ParseDuration("nan", max).ok());
  EXPECT_FALSE(ParseDuration("11m", max).ok());
}

TEST(Validate, Choices) {
  EXPECT_EQ(*ParseChoice("ZSTD", {"gzip", "zstd", "none"}), "zstd");
  EXPECT_EQ(ParseChoice("lz4", {"gzip", "zstd", "none"}).status().message(),
            "'lz4' is not accepted; expected gzip, zstd or none");
}

TEST(Validate, BucketNames) {
  for (const char* ok : {"cinema-data-bucket", "abc", "a.b-c1", "file:///tmp/backups"})
    EXPECT_TRUE(ValidateBucketName(ok).ok()) << ok;
  const std::string too_long(64, 'a');
  for (const std::string& bad :
       {std::string("ab"), std::string("Upper"), std::string("under_score"), std::string("-start"),
        std::string("end-"), std::string("a..b"), std::string("file://relative"),
        std::string("file://"), too_long})
    EXPECT_FALSE(ValidateBucketName(bad).ok()) << bad;
}

TEST(Validate, DynamoTableNames) {
  EXPECT_TRUE(ValidateDynamoTableName("cinema-movies").ok());
  EXPECT_TRUE(ValidateDynamoTableName("A_b.c-1").ok());
  EXPECT_FALSE(ValidateDynamoTableName("ab").ok());
  EXPECT_FALSE(ValidateDynamoTableName("has space").ok());
  EXPECT_FALSE(ValidateDynamoTableName(std::string(256, 'a')).ok());
}

TEST(Validate, Regions) {
  for (const char* ok : {"us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"})
    EXPECT_TRUE(ValidateRegion(ok).ok()) << ok;
  for (const char* bad : {"", "useast1", "US-EAST-1", "us-east-", "us-east-x", "us--1"})
    EXPECT_FALSE(ValidateRegion(bad).ok()) << bad;
}

TEST(Validate, Urls) {
  EXPECT_TRUE(ValidateUrl("http://127.0.0.1:5000", {"http", "https"}).ok());
  EXPECT_TRUE(ValidateUrl("HTTPS://s3.amazonaws.com", {"http", "https"}).ok());
  EXPECT_EQ(ValidateUrl("ftp://x", {"http", "https"}).message(),
            "scheme 'ftp' is not accepted; expected a URL starting with http:// or https://");
  EXPECT_FALSE(ValidateUrl("localhost:5000", {"http"}).ok());
  EXPECT_FALSE(ValidateUrl("http://", {"http"}).ok());
}

TEST(Validate, TimeZones) {
  EXPECT_TRUE(ValidateTimeZone("UTC").ok());
  EXPECT_TRUE(ValidateTimeZone("Europe/Madrid").ok());
  EXPECT_TRUE(ValidateTimeZone("America/Bogota").ok());
  EXPECT_FALSE(ValidateTimeZone("Mars/Olympus").ok());
  EXPECT_FALSE(ValidateTimeZone("../../etc/passwd").ok());
  EXPECT_FALSE(ValidateTimeZone("/etc/passwd").ok());
  EXPECT_FALSE(ValidateTimeZone("").ok());
}

TEST(Validate, Folders) {
  EXPECT_TRUE(ValidateFolder("backups").ok());
  EXPECT_TRUE(ValidateFolder("team/backups").ok());
  for (const char* bad : {"", "/backups", "backups/", "a//b", "a/../b"})
    EXPECT_FALSE(ValidateFolder(bad).ok()) << bad;
}

TEST(Validate, ReplicationNames) {
  EXPECT_TRUE(ValidateReplicationName("data_ingestion").ok());
  EXPECT_TRUE(ValidateReplicationName(std::string(63, 'a')).ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "Data", "a-b", "a b", "a;drop", std::string(64, 'a')})
    EXPECT_FALSE(ValidateReplicationName(bad).ok()) << bad;
  EXPECT_EQ(ValidateReplicationName("a-b").message(),
            "'a-b' is not a slot or publication name; use 1 to 63 lowercase letters, digits "
            "and '_', such as data_ingestion");
}

TEST(Validate, UrlQuery) {
  using Q = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(UrlQuery("postgresql://h/db"), Q{});
  EXPECT_EQ(UrlQuery("postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/a%20b/ca.pem&x"),
            (Q{{"sslmode", "verify-full"}, {"sslrootcert", "/a b/ca.pem"}, {"x", ""}}));
  EXPECT_EQ(UrlQuery("mongodb://h/?tls=true&&tlsCAFile=%2Fca.pem%"),
            (Q{{"tls", "true"}, {"tlsCAFile", "/ca.pem%"}}));
}

}  // namespace
}  // namespace di
