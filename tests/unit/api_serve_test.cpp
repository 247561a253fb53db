// The REST API's handlers in process (ApiServer::ServeOne, api/server.h): a request read whole
// is answered on a socket pair, over a world of fakes (a table of keys, a folder for a bucket,
// DynamoDB in memory). Found by fuzz/api_request: a request whose path was not UTF-8 threw out
// of the error answer (JSON cannot carry it) and would have ended the process.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "api/server.h"
#include "api/service.h"
#include "config/env.h"
#include "fakes.h"

namespace di {
namespace {

namespace fs = std::filesystem;

class ApiServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("di-api-serve-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto c = LoadConfig(
        Env::FromMap({{"API_TOKEN", "t0ken"}, {"S3_BUCKET_NAME", "file://" + dir_.string()}}));
    ASSERT_TRUE(c.ok()) << c.status().message();
    config_ = std::make_unique<Config>(*c);
    store_ = MakeLocalStore(dir_.string());
    clients_.dynamodb = fakes::DynamoOver(std::make_shared<fakes::MemoryDynamo>());
    world_ = std::make_unique<RunWorld>(
        RunWorld{*config_, sources_, *store_, nullptr, clients_.dynamodb.get()});
  }
  void TearDown() override { fs::remove_all(dir_); }

  // What the server answers `request` (one whole request) on a connection of its own.
  std::string Answer(const std::string& request) {
    JobManager jobs;
    Service service(CinemaMapping(config_->dynamodb), *world_, clients_, jobs);
    ApiServer server(service);
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    std::atomic<size_t> open{1};
    {
      Connection c(fds[0], &open);
      c.in = request;
      c.request_bytes = request.size();
      server.ServeOne(c);
    }
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fds[1], buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<size_t>(n));
    close(fds[1]);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Config> config_;
  fakes::FakeSources sources_{std::make_shared<fakes::FakeTableData>()};
  std::unique_ptr<ObjectStore> store_;
  aws::AwsClients clients_;
  std::unique_ptr<RunWorld> world_;
};

TEST_F(ApiServeTest, APathThatIsNotUtf8IsAnsweredNotThrown) {
  const std::string found =
      "GET /backu\xffs?source_db=oracle&limit=0&cursor=-1 HTTP/1.1\r\n"
      "Authorization: Bearer t0ken\r\n\r\n";
  std::string a = Answer(found);
  EXPECT_EQ(a.rfind("HTTP/1.1 404", 0), 0u) << a;
  EXPECT_NE(a.find("no such endpoint: GET /backu\xef\xbf\xbds"), std::string::npos) << a;
  // Without the token: the 401 answer is made before any text of the request is shown.
  a = Answer("GET /\xc3\x28 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(a.rfind("HTTP/1.1 401", 0), 0u) << a;
}

TEST_F(ApiServeTest, ATableNameThatIsNotUtf8IsAnsweredNotThrown) {
  std::string a =
      Answer("GET /dynamodb/caf\xe9/items HTTP/1.1\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_EQ(a.rfind("HTTP/1.1 404", 0), 0u) << a;
  EXPECT_NE(a.find("'caf\xef\xbf\xbd' is not a mapped DynamoDB table"), std::string::npos) << a;
}

}  // namespace
}  // namespace di
