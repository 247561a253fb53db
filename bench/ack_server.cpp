// A benchmark instrument, not a mock for tests: an HTTP endpoint that acknowledges every
// DynamoDB JSON-protocol call at once (BatchWriteItem with no UnprocessedItems, GetItem with
// no item, PutItem/DescribeTable OK), so `migrate` or `stream` against it measures our
// client's own ceiling: reading, mapping, encoding, signing and sending.
//
// Usage: ack_server PORT [--forward-table NAME --forward-to URL]
//                        [--latency-field ATTR --latency-out FILE]
//   --forward-table/--forward-to: calls naming that table (the state table) go to a real
//     DynamoDB endpoint (moto) instead, so a stream finds the snapshot a migrate recorded.
//   --latency-field/--latency-out: each put item's number attribute ATTR is read as the
//     microseconds (Unix time) its row was written at; at exit FILE gets {"count", "p50_ms",
//     "p99_ms", "max_ms"} of (arrival - ATTR): the commit-to-applied latency as the target
//     sees it, independent of the client's own figures.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {
httplib::Server* g_server = nullptr;
std::atomic<long> g_requests{0};

struct Options {
  int port = 5999;
  std::string forward_table, forward_to, latency_field, latency_out;
};

Options Parse(int argc, char** argv) {
  Options o;
  if (argc > 1) o.port = std::atoi(argv[1]);
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--forward-table") o.forward_table = value;
    if (flag == "--forward-to") o.forward_to = value;
    if (flag == "--latency-field") o.latency_field = value;
    if (flag == "--latency-out") o.latency_out = value;
  }
  return o;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Arrival minus the item's write time, for every put item carrying the field.
class Latencies {
 public:
  explicit Latencies(std::string field) : field_(std::move(field)) {}
  void Take(const std::string& op, const std::string& body) {
    const int64_t now = NowMicros();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (op == "PutItem" && j.contains("Item")) One(j["Item"], now);
    if (op != "BatchWriteItem" || !j.contains("RequestItems")) return;
    const nlohmann::json& tables = j["RequestItems"];
    if (!tables.is_object()) return;
    for (auto t = tables.begin(); t != tables.end(); ++t)
      for (const auto& r : *t)
        if (r.contains("PutRequest") && r["PutRequest"].contains("Item"))
          One(r["PutRequest"]["Item"], now);
  }
  void Write(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(us_.begin(), us_.end());
    auto at = [&](double q) {
      return us_.empty() ? 0.0 : us_[std::min(us_.size() - 1, size_t(q * us_.size()))] / 1e3;
    };
    nlohmann::json out = {{"count", us_.size()},
                          {"p50_ms", at(0.5)},
                          {"p99_ms", at(0.99)},
                          {"max_ms", us_.empty() ? 0.0 : us_.back() / 1e3}};
    std::ofstream(path) << out.dump() << "\n";
  }

 private:
  void One(const nlohmann::json& item, int64_t now) {
    if (!item.is_object() || !item.contains(field_)) return;
    const auto& n = item[field_];
    if (n.is_object() && n.contains("N") && n["N"].is_string())
      us_.push_back(now - std::stoll(n["N"].get<std::string>()));
  }
  std::string field_;
  std::mutex mu_;
  std::vector<int64_t> us_;
};

// Calls naming the forwarded table go to the real endpoint, one at a time.
class Forward {
 public:
  Forward(const std::string& table, const std::string& url)
      : needle_("\"TableName\":\"" + table + "\""), client_(url) {}
  bool Handles(const std::string& body) const { return body.find(needle_) != std::string::npos; }
  void Pass(const httplib::Request& req, httplib::Response& res) {
    httplib::Headers h;
    for (const auto& [k, v] : req.headers)
      if (k != "Host" && k != "Content-Length") h.emplace(k, v);
    std::lock_guard<std::mutex> lock(mu_);
    auto r = client_.Post("/", h, req.body, req.get_header_value("Content-Type"));
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    res.set_content(r->body, r->get_header_value("Content-Type"));
  }

 private:
  std::string needle_;
  std::mutex mu_;
  httplib::Client client_;
};

std::string Acknowledgement(const std::string& op) {
  if (op == "BatchWriteItem") return R"({"UnprocessedItems":{}})";
  if (op == "DescribeTable") return R"({"Table":{"TableStatus":"ACTIVE","ItemCount":0}})";
  return "{}";
}
}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::unique_ptr<Forward> forward;
  if (!o.forward_table.empty() && !o.forward_to.empty())
    forward = std::make_unique<Forward>(o.forward_table, o.forward_to);
  std::unique_ptr<Latencies> latencies;
  if (!o.latency_field.empty()) latencies = std::make_unique<Latencies>(o.latency_field);
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
  server.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    ++g_requests;
    if (forward && forward->Handles(req.body)) return forward->Pass(req, res);
    std::string target = req.get_header_value("X-Amz-Target");
    std::string op = target.substr(target.find('.') + 1);
    if (latencies) latencies->Take(op, req.body);
    res.set_content(Acknowledgement(op), "application/x-amz-json-1.0");
  });
  std::signal(SIGTERM, [](int) {
    if (g_server) g_server->stop();
  });
  std::fprintf(stderr, "ack_server listening on 127.0.0.1:%d\n", o.port);
  server.listen("127.0.0.1", o.port);
  if (latencies && !o.latency_out.empty()) latencies->Write(o.latency_out);
  std::fprintf(stderr, "ack_server answered %ld requests\n", g_requests.load());
  return 0;
}
