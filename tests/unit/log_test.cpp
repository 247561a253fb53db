// Logging: the line format, JSON lines, size-based rotation and redaction of secrets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/log.h"

namespace di {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("di-log-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_.log.file = (dir_ / "service.log").string();
    config_.aws.secret_access_key = "wJalr-SECRET-key";
    config_.postgres.password = "pg-pass-0042";
    config_.analytics_database_url = "postgresql://wh:url-pass-77@db:5432/wh";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  Config config_;
};

TEST_F(LogTest, TextLinesAreTimestampLoggerLevelMessage) {
  ASSERT_TRUE(InitLogging(config_, false).ok());
  GetLogger("pipeline")->info("hello {}", 42);
  GetLogger("api")->warn("careful");
  GetLogger("api")->debug("not shown at INFO");
  std::string text = Read(config_.log.file);
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z pipeline INFO hello 42\n)")))
      << text;
  EXPECT_NE(text.find("Z api WARNING careful\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("not shown"), std::string::npos);
}

TEST_F(LogTest, JsonLinesParse) {
  config_.log.format = LogFormat::kJson;
  ASSERT_TRUE(InitLogging(config_, false).ok());
  GetLogger("scheduler")->error("quote \" and \\ and\nnewline");
  std::string text = Read(config_.log.file);
  auto j = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(j["logger"], "scheduler");
  EXPECT_EQ(j["level"], "ERROR");
  EXPECT_EQ(j["message"], "quote \" and \\ and\nnewline");
}

TEST_F(LogTest, SecretsAreRedactedWhateverCarriesThem) {
  ASSERT_TRUE(InitLogging(config_, false).ok());
  GetLogger("pipeline")
      ->info("connecting with wJalr-SECRET-key and pg-pass-0042 to {}",
             config_.analytics_database_url);
  std::string text = Read(config_.log.file);
  for (const char* s : {"wJalr-SECRET-key", "pg-pass-0042", "url-pass-77"})
    EXPECT_EQ(text.find(s), std::string::npos) << s << " in " << text;
  EXPECT_NE(text.find("connecting with **** and **** to postgresql://wh:****@db:5432/wh"),
            std::string::npos)
      << text;
  EXPECT_EQ(Redact("x pg-pass-0042 y"), "x **** y");
}

TEST_F(LogTest, RotatesPastTheSizeKeepingBackups) {
  config_.log.max_bytes = 2048;
  config_.log.backups = 2;
  ASSERT_TRUE(InitLogging(config_, false).ok());
  auto log = GetLogger("pipeline");
  for (int i = 0; i < 200; ++i) log->info("line {} {}", i, std::string(40, 'x'));
  EXPECT_TRUE(fs::exists(dir_ / "service.log"));
  EXPECT_TRUE(fs::exists(dir_ / "service.1.log"));
  EXPECT_TRUE(fs::exists(dir_ / "service.2.log"));
  EXPECT_FALSE(fs::exists(dir_ / "service.3.log"));
  EXPECT_LE(fs::file_size(dir_ / "service.log"), 2048u);
  EXPECT_NE(Read(dir_ / "service.log").find("line 199"), std::string::npos);
}

TEST_F(LogTest, AnUnwritableLogFileIsAClearError) {
  config_.log.file = "/proc/definitely/not/here.log";
  Status s = InitLogging(config_, false);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("LOG_FILE: cannot open '/proc/definitely/not/here.log'"),
            std::string::npos)
      << s.message();
}

// While routed (the progress display), the stderr lines go whole, redacted and formatted,
// to the route instead; the log file still gets them.
TEST_F(LogTest, StderrLinesCanBeRoutedElsewhereForAWhile) {
  ASSERT_TRUE(InitLogging(config_, true).ok());
  std::vector<std::string> routed;
  RouteStderr([&routed](std::string_view line) { routed.emplace_back(line); });
  GetLogger("pipeline")->info("connected with pg-pass-0042");
  GetLogger("mongodb")->warn("cluster: slow");
  RouteStderr(nullptr);
  GetLogger("pipeline")->info("after the route");
  ASSERT_EQ(routed.size(), 2u);
  EXPECT_TRUE(
      std::regex_match(routed[0], std::regex(R"(\S+Z pipeline INFO connected with \*\*\*\*\n)")))
      << routed[0];
  EXPECT_TRUE(std::regex_match(routed[1], std::regex(R"(\S+Z mongodb WARNING cluster: slow\n)")))
      << routed[1];
  EXPECT_NE(Read(config_.log.file).find("pipeline INFO after the route"), std::string::npos);
}

}  // namespace
}  // namespace di
