// The data-ingestion binary as a user runs it: --help, --print-config with secrets masked,
// and bad configuration refused with the variable's name and exit code 2.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "stack_env.h"

namespace di::testing {
namespace {

const std::string kBinary = DI_BINARY;
// A clean environment, so the tests see only the variables they set.
const std::string kEnv = "env -i PATH=/usr/bin:/bin ";

TEST(CliBinary, HelpExitsZero) {
  std::string out;
  EXPECT_EQ(RunCommand(kBinary + " --help", &out), 0) << out;
  EXPECT_NE(out.find("--mode"), std::string::npos);
}

TEST(CliBinary, PrintConfigMasksSecrets) {
  std::string out;
  int rc = RunCommand(kEnv +
                          "AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=TOPSECRET1 "
                          "MYSQL_PASSWORD=TOPSECRET2 API_TOKEN=TOPSECRET3 "
                          "MONGODB_URI=mongodb://u:TOPSECRET4@h:1/db " +
                          kBinary + " --print-config",
                      &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("TOPSECRET"), std::string::npos) << out;
  EXPECT_NE(out.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_NE(out.find("mongodb://u:****@h:1/db"), std::string::npos);
}

TEST(CliBinary, BadValuesExitTwoNamingTheVariable) {
  std::string out;
  EXPECT_EQ(RunCommand(kEnv + "MYSQL_PORT=abc COMPRESSION=rar " + kBinary + " --mode backup", &out),
            2);
  EXPECT_NE(out.find("MYSQL_PORT: 'abc' is not a number"), std::string::npos) << out;
  EXPECT_NE(out.find("COMPRESSION: 'rar' is not accepted; expected gzip, zstd or none"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunCommand(kBinary + " --mode explode", &out), 2);
  EXPECT_NE(out.find("--mode: 'explode' is not accepted"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(kBinary + " --mode api --port http", &out), 2);
  EXPECT_NE(out.find("--port: 'http' is not a number"), std::string::npos) << out;
}

TEST(CliBinary, DotEnvFileIsReadAndEnvironmentWins) {
  std::string path = ::testing::TempDir() + "/di-test.env";
  {
    std::ofstream f(path);
    f << "# test\nBATCH_SIZE=77\nWORKERS=5\n";
  }
  std::string out;
  ASSERT_EQ(RunCommand(kEnv + "WORKERS=6 " + kBinary + " --print-config --env-file " + path, &out),
            0)
      << out;
  EXPECT_NE(out.find("BATCH_SIZE                  = 77   (.env)"), std::string::npos) << out;
  EXPECT_NE(out.find("WORKERS                     = 6   (env)"), std::string::npos) << out;
  {
    std::ofstream f(path);
    f << "BATCH_SIZE=77\nnot a line\n";
  }
  EXPECT_EQ(RunCommand(kBinary + " --print-config --env-file " + path, &out), 2);
  EXPECT_NE(out.find("line 2 of " + path + ": expected NAME=value"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(kBinary + " --print-config --env-file /no/such.env", &out), 2);
  EXPECT_NE(out.find("/no/such.env does not exist"), std::string::npos) << out;
  std::remove(path.c_str());
}

// env.example and env.docker.example name every variable the service reads, and each is a
// valid configuration as it stands (`cp env.example .env` then edit).
TEST(CliBinary, TheExampleEnvFilesListEveryVariableAndAreValid) {
  std::string all;
  ASSERT_EQ(RunCommand("env -i PATH=/usr/bin:/bin " + kBinary + " --print-config", &all), 0) << all;
  std::vector<std::string> names;
  for (size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1) {
    std::string line = all.substr(at, nl - at);
    if (line.find(" = ") != std::string::npos) names.push_back(line.substr(0, line.find(' ')));
  }
  ASSERT_GT(names.size(), 40u) << all;
  // Read by the credentials chain (src/aws/credentials.cpp), not shown by --print-config.
  names.insert(names.end(), {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"});
  for (const char* file : {"env.example", "env.docker.example"}) {
    SCOPED_TRACE(file);
    const std::string path = std::string(DI_SOURCE_DIR) + "/" + file;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& n : names)
      EXPECT_TRUE(text.find("\n" + n + "=") != std::string::npos ||
                  text.find("\n# " + n + "=") != std::string::npos)
          << n << " is not in " << file;
    std::string out;
    EXPECT_EQ(
        RunCommand("env -i PATH=/usr/bin:/bin " + kBinary + " --print-config --env-file " + path,
                   &out),
        0)
        << out;
    EXPECT_NE(out.find("MYSQL_DATABASE              = cinema_rooms   (.env)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("MYSQL_PASSWORD              = ****   (.env)"), std::string::npos) << out;
    // `NAME=   # comment` is an empty value, not the comment (env.docker.example's LOG_FILE).
    EXPECT_EQ(out.find("= #"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace di::testing
