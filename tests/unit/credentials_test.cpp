#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace di::aws {
namespace {

namespace fs = std::filesystem;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("creds-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / ".aws");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / ".aws" / name) << text;
  }
  Result<ResolvedAws> Resolve(std::map<std::string, std::string> vars) {
    vars["HOME"] = dir_.string();
    Env env = Env::FromMap(vars);
    auto cfg = LoadConfig(env);
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    return ResolveAws(cfg->aws, env);
  }
  fs::path dir_;
};

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  Write("credentials",
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  auto r = Resolve({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                    {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                    {"AWS_SESSION_TOKEN", "TOK"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(r->credentials.secret_access_key, "ENVSECRET");
  EXPECT_EQ(r->credentials.session_token, "TOK");
  EXPECT_EQ(r->credentials_source, "environment");
}

TEST_F(CredentialsTest, DefaultProfileOfTheSharedFile) {
  Write("credentials",
        "# comment\n[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n"
        "aws_session_token = FILETOKEN\n[other]\naws_access_key_id = OTHER\n"
        "aws_secret_access_key = OTHERSECRET\n");
  Write("config", "[default]\nregion = eu-west-3\n[profile other]\nregion = sa-east-1\n");
  auto r = Resolve({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "FILEKEY");
  EXPECT_EQ(r->credentials.session_token, "FILETOKEN");
  EXPECT_EQ(r->region, "eu-west-3");  // from the profile, AWS_REGION being unset
  EXPECT_NE(r->credentials_source.find("profile 'default'"), std::string::npos);
}

TEST_F(CredentialsTest, NamedProfileAndRegionPrecedence) {
  Write("credentials", "[other]\naws_access_key_id = OTHER\naws_secret_access_key = OS\n");
  Write("config", "[profile other]\nregion = sa-east-1\n");
  auto r = Resolve({{"AWS_PROFILE", "other"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "OTHER");
  EXPECT_EQ(r->region, "sa-east-1");
  r = Resolve({{"AWS_PROFILE", "other"}, {"AWS_REGION", "us-west-2"}});
  EXPECT_EQ(r->region, "us-west-2");  // AWS_REGION wins over the profile
}

TEST_F(CredentialsTest, KeysInTheConfigFileAndCustomPaths) {
  std::string conf = (dir_ / "elsewhere.ini").string();
  std::ofstream(conf) << "[profile p]\naws_access_key_id = CONFKEY\naws_secret_access_key = CS\n";
  auto r = Resolve({{"AWS_PROFILE", "p"},
                    {"AWS_CONFIG_FILE", conf},
                    {"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "none").string()}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "CONFKEY");
}

TEST_F(CredentialsTest, NoneFoundNamesWhatWasLookedAt) {
  auto r = Resolve({{"AWS_PROFILE", "ghost"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (unset)"), std::string::npos) << m;
  EXPECT_NE(m.find("profile 'ghost'"), std::string::npos) << m;
  EXPECT_NE(m.find(".aws/credentials (file not found)"), std::string::npos) << m;
  Write("credentials", "[default]\naws_access_key_id = K\n");
  r = Resolve({});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no aws_secret_access_key"), std::string::npos);
}

TEST_F(CredentialsTest, EndpointsPerService) {
  auto r = Resolve({{"AWS_ACCESS_KEY_ID", "K"},
                    {"AWS_SECRET_ACCESS_KEY", "S"},
                    {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000"},
                    {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->s3_endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(r->dynamodb_endpoint, "http://127.0.0.1:8000");
}

}  // namespace
}  // namespace di::aws
