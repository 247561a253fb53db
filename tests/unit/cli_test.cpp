#include "app/cli.h"

#include <gtest/gtest.h>

#include <vector>

namespace di {
namespace {

CliParse Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "data-ingestion");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

TEST(Cli, ModesAndOptions) {
  for (const auto& mode : KnownModes()) {
    auto r = Parse({"--mode", mode.c_str()});
    ASSERT_TRUE(r.options) << mode << ": " << r.status.ToString();
    EXPECT_EQ(ModeName(r.options->mode), mode);
    EXPECT_EQ(r.options->port, 3006);
  }
  auto r = Parse({"--mode", "SYNC", "--table", "rooms", "--table", "seats", "--since",
                  "2024-01-01T00:00:00Z"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->mode, Mode::kSync);
  EXPECT_EQ(r.options->tables, (std::vector<std::string>{"rooms", "seats"}));
  EXPECT_EQ(r.options->since, "2024-01-01T00:00:00Z");
  r = Parse({"--mode", "api", "--port", "8080", "--with-scheduler"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->port, 8080);
  EXPECT_TRUE(r.options->with_scheduler);
  r = Parse({"--print-config"});
  ASSERT_TRUE(r.options);
  EXPECT_TRUE(r.options->print_config);
  r = Parse({"--mode", "stream", "--catch-up"});
  ASSERT_TRUE(r.options);
  EXPECT_TRUE(r.options->catch_up);
  EXPECT_FALSE(Parse({"--mode", "stream"}).options->catch_up);
}

TEST(Cli, BadUsageIsNamed) {
  struct Bad {
    std::vector<const char*> args;
    const char* message;
  };
  const Bad cases[] = {
      {{},
       "--mode is required; expected api, migrate, backup, sync, scheduler, setup, verify, "
       "restore or stream"},
      {{"--mode", "explode"}, "--mode: 'explode' is not accepted; expected api, migrate"},
      {{"--mode", "api", "--port", "http"},
       "--port: 'http' is not a number; expected a whole number from 1 to 65535"},
      {{"--mode", "api", "--port", "70000"}, "--port: 70000 is out of range"},
      {{"--mode", "restore", "--if-exists", "merge"},
       "--if-exists: 'merge' is not accepted; expected fail, replace or append"},
      {{"--mode", "api", "--bogus"}, "The following argument was not expected: --bogus"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.args);
    EXPECT_FALSE(r.options);
    EXPECT_NE(r.status.message().find(c.message), std::string::npos) << r.status.message();
  }
}

TEST(Cli, HelpListsTheModes) {
  auto r = Parse({"--help"});
  EXPECT_FALSE(r.options);
  EXPECT_TRUE(r.status.ok());
  EXPECT_NE(r.help.find("--mode"), std::string::npos);
  EXPECT_NE(r.help.find("api, migrate, backup, sync, scheduler, setup, verify, restore"),
            std::string::npos);
  EXPECT_NE(r.help.find("Exit codes"), std::string::npos);
}

}  // namespace
}  // namespace di
