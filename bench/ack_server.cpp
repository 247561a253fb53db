// A benchmark instrument, not a mock for tests: an HTTP endpoint that acknowledges every
// DynamoDB JSON-protocol call at once (BatchWriteItem with no UnprocessedItems, GetItem with
// no item, PutItem/DescribeTable OK), so `migrate` against it measures our client's own
// ceiling: reading, mapping, encoding, signing and sending. Usage: ack_server PORT
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

namespace {
httplib::Server* g_server = nullptr;
std::atomic<long> g_requests{0};
}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 5999;
  httplib::Server server;
  g_server = &server;
  // A thread per connection the client keeps open: its parallel BatchWriteItem calls and the
  // state table's checkpoints from another thread (with fewer, a connection waits for an
  // idle keep-alive one to time out: 5 s).
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  // Without it, a response's header and body segments meet Nagle and delayed ACKs: ~40 ms
  // per request, which would measure the kernel instead of the client.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(100000);
  server.Post("/", [](const httplib::Request& req, httplib::Response& res) {
    ++g_requests;
    std::string target = req.get_header_value("X-Amz-Target");
    std::string op = target.substr(target.find('.') + 1);
    const char* body = "{}";
    if (op == "BatchWriteItem") body = R"({"UnprocessedItems":{}})";
    if (op == "DescribeTable") body = R"({"Table":{"TableStatus":"ACTIVE","ItemCount":0}})";
    res.set_content(body, "application/x-amz-json-1.0");
  });
  std::signal(SIGTERM, [](int) {
    if (g_server) g_server->stop();
  });
  std::fprintf(stderr, "ack_server listening on 127.0.0.1:%d\n", port);
  server.listen("127.0.0.1", port);
  std::fprintf(stderr, "ack_server answered %ld requests\n", g_requests.load());
  return 0;
}
