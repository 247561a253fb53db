// libFuzzer target: the REST API's request handling in process (api/server.h) — the bytes a
// client sends on one connection, framed as the connection gate frames them
// (api/http_framing.h) and each whole request served by ApiServer::ServeOne with the real
// routes, authentication and error answers, its answer read back from a socket pair. Behind
// the routes: a bucket in a temporary folder holding one backup, databases that refuse every
// connection, a DynamoDB that answers every call with one active table and one item, and a
// job manager that is shutting down (a route that would start a job answers 503 after all its
// checks), so that no input leaves work running. An answer must never be a 500 "internal
// error" (an exception in a handler).
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "api/server.h"
#include "api/service.h"
#include "config/config.h"
#include "config/env.h"
#include "fuzz/aws_client.h"
#include "fuzz/fuzz_support.h"
#include "pipeline/mapping.h"
#include "sinks/object_store.h"

namespace {

using di::fuzz::Check;

class NoSources : public di::SourceFactory {
 public:
  di::Result<std::unique_ptr<di::Source>> Open(di::Engine e, const std::string&) override {
    return di::Unavailable(di::EngineName(e) + ": no database in the fuzz target");
  }
};

constexpr char kDynamoAnswer[] =
    R"({"Table":{"TableName":"cinema-users","TableStatus":"ACTIVE","ItemCount":1},)"
    R"("Items":[{"id":{"N":"1"},"email":{"S":"a@b.c"}}],"Count":1,)"
    R"("LastEvaluatedKey":{"id":{"N":"1"}}})";

// What every input shares: made once, never changed by a request.
struct World {
  World() {
    namespace fs = std::filesystem;
    folder = fs::temp_directory_path() / ("di-fuzz-api-" + std::to_string(getpid()));
    fs::create_directories(folder);
    auto c = di::LoadConfig(di::Env::FromMap(
        {{"API_TOKEN", "fuzz-token"}, {"S3_BUCKET_NAME", "file://" + folder.string()}}));
    if (!c.ok()) di::fuzz::Fail("the fuzz configuration: " + c.status().ToString());
    config = std::make_unique<di::Config>(std::move(c).value());
    store = di::MakeLocalStore(folder.string());
    (void)store->Put(
        "backups/postgresql/reservations/2024-01-02T03:04:05Z/manifest.json",
        R"({"engine":"postgresql","table":"reservations","run_id":"2024-01-02T03:04:05Z",)"
        R"("row_count":1,"codec":"none","columns":[{"name":"id","source_type":"bigint"}],)"
        R"("primary_key":["id"],"parts":[]})",
        "application/json");
    di::aws::HttpResponse answer{200, {}, kDynamoAnswer};
    auto transport = std::make_shared<di::fuzz::CannedTransport>(answer);
    clients.dynamodb_transport = di::fuzz::ClientOver("dynamodb", transport);
    clients.s3_transport = di::fuzz::ClientOver("s3", transport);
    clients.dynamodb = std::make_unique<di::aws::DynamoDbClient>(clients.dynamodb_transport);
    clients.s3 = std::make_unique<di::aws::S3Client>(clients.s3_transport);
    world = std::make_unique<di::RunWorld>(
        di::RunWorld{*config, sources, *store, nullptr, clients.dynamodb.get()});
    mapping = di::CinemaMapping(config->dynamodb);
  }
  ~World() { std::filesystem::remove_all(folder); }

  std::filesystem::path folder;
  std::unique_ptr<di::Config> config;
  NoSources sources;
  std::unique_ptr<di::ObjectStore> store;
  di::aws::AwsClients clients;
  std::unique_ptr<di::RunWorld> world;
  std::vector<di::TableMapping> mapping;
};

// Everything the server wrote to the connection (its socket's other end), without waiting.
std::string Drain(int fd) {
  std::string out;
  char buf[64 << 10];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

void CheckAnswers(const std::string& answers) {
  for (size_t at = answers.find("HTTP/1.1 500"); at != std::string::npos;
       at = answers.find("HTTP/1.1 500", at + 1)) {
    size_t next = answers.find("HTTP/1.1 ", at + 1);
    std::string one = answers.substr(at, next == std::string::npos ? next : next - at);
    Check(one.find("internal error") == std::string::npos, "a handler threw:\n" + one);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  di::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  di::JobManager jobs;
  jobs.Shutdown();  // no job starts: Submit answers "shutting down"
  di::Service service(w.mapping, *w.world, w.clients, jobs);
  di::HttpLimits limits;
  limits.frame.max_header_bytes = 4096;
  limits.frame.max_body_bytes = 16384;
  di::ApiServer server(service, limits);

  int fds[2];
  Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair failed");
  const int big = 8 << 20;  // every answer fits: ServeOne never waits for a reader
  if (setsockopt(fds[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) != 0)
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  std::atomic<size_t> open{1};
  std::string answers;
  {
    di::Connection c(fds[0], &open);
    c.in.assign(reinterpret_cast<const char*>(data), size);
    for (int served = 0; served < 4 && !c.in.empty(); ++served) {
      const di::Frame f = di::FrameRequest(c.in, limits.frame);
      if (f.state != di::Frame::State::kComplete) break;  // the gate waits or refuses
      c.request_bytes = f.length;
      bool more = server.ServeOne(c);
      answers += Drain(fds[1]);
      if (!more) break;
    }
  }
  answers += Drain(fds[1]);
  close(fds[1]);
  CheckAnswers(answers);
  return 0;
}
