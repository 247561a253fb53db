#include "api/server.h"

#include <sys/resource.h>

#include <httplib.h>

#include "api/http_worker.h"
#include "aws/crypto.h"
#include "core/json_encode.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "core/worker_pool.h"
#include "sources/factory.h"

namespace di {
namespace {

using J = nlohmann::json;

// Text from the request (a path, a table name, a field) may be any bytes: invalid UTF-8 is
// written as U+FFFD, as JSON cannot carry it (dump would throw).
void Reply(httplib::Response& res, int status, const J& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, J::error_handler_t::replace) + "\n", "application/json");
}

void Error(httplib::Response& res, int status, const std::string& message,
           const std::string& field = "") {
  J body = {{"error", Redact(message)}};
  if (!field.empty()) body["field"] = field;
  Reply(res, status, body);
}

int StatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kAborted:
      return 503;
    default:
      return 500;
  }
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// The body as a JSON object ({} when empty); false after answering 400.
bool Body(const httplib::Request& req, httplib::Response& res, J* out) {
  if (Trim(req.body).empty()) {
    *out = J::object();
    return true;
  }
  *out = J::parse(req.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    Error(res, 400, "the request body is not a JSON object", "body");
    return false;
  }
  return true;
}

// A POST handler that reads its own body: a request with neither Content-Length nor chunked
// Transfer-Encoding has no body (RFC 9112, section 6.3), as the seed's `curl -X POST
// .../migrate` sends; httplib alone waits for one and answers 400. A body over the limit
// never gets here: the connection gate answers it 413.
httplib::Server::HandlerWithContentReader ReadingBody(httplib::Server::Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& read) {
    httplib::Request with_body = req;
    const bool chunked =
        req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (req.has_header("Content-Length") || chunked)
      read([&](const char* data, size_t n) {
        with_body.body.append(data, n);
        return true;
      });
    handler(with_body, res);
  };
}

bool Unhex(const std::string& s, std::string* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = HexDigitValue(s[i]), lo = HexDigitValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

// ?limit= within [1, max]; false after answering 400.
bool Limit(const httplib::Request& req, httplib::Response& res, int def, int max, int* out) {
  *out = def;
  if (!req.has_param("limit")) return true;
  auto n = ParseInt64(req.get_param_value("limit"));
  if (!n || *n < 1 || *n > max) {
    Error(res, 400, "limit must be a whole number from 1 to " + std::to_string(max), "limit");
    return false;
  }
  *out = static_cast<int>(*n);
  return true;
}

}  // namespace

ApiServer::ApiServer(Service& service, HttpLimits limits)
    : service_(service),
      limits_(limits),
      http_(std::make_unique<RequestServer>()),
      gate_(std::make_unique<ConnectionGate>(
          limits, [this](std::unique_ptr<Connection> c) { Serve(std::move(c)); })),
      workers_(std::make_unique<WorkerPool>(limits.workers)) {
  Register();
}

ApiServer::~ApiServer() = default;

std::vector<std::pair<std::string, std::string>> ApiServer::Routes() {
  return {{"GET", "/health"},
          {"POST", "/migrate"},
          {"POST", "/backup"},
          {"POST", "/sync/{table_name}"},
          {"GET", "/backups"},
          {"GET", "/dynamodb/tables"},
          {"GET", "/dynamodb/{table_name}/items"},
          {"GET", "/jobs"},
          {"GET", "/jobs/{id}"},
          {"GET", "/metrics"},
          {"POST", "/restore"},
          {"GET", "/stream"},
          {"POST", "/stream/start"},
          {"POST", "/stream/stop"},
          {"GET", "/openapi.json"}};
}

namespace {

// Authentication (a bearer token for all but /health, /metrics and /openapi.json), the error
// answers of unknown routes and exceptions, and the request log.
void Guard(httplib::Server& s, const std::string& token) {
  s.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    if (token.empty() || req.path == "/health" || req.path == "/metrics" ||
        req.path == "/openapi.json")
      return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    if (!StartsWith(auth, "Bearer ")) {
      res.set_header("WWW-Authenticate", "Bearer");
      Error(res, 401, "missing Authorization: Bearer <API_TOKEN>", "Authorization");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!ConstantTimeEquals(auth.substr(7), token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      Error(res, 401, "wrong token", "Authorization");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                              httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404)
      Error(res, 404, "no such endpoint: " + req.method + " " + req.path + " (see /openapi.json)");
    else if (res.status == 400)
      Error(res, 400, "bad request");
    else
      Error(res, res.status, "HTTP " + std::to_string(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        Error(res, 500, what);
      });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    GetLogger("api")->info("{} {} -> {}", req.method, req.path, res.status);
  });
}

// A started job: 202 with Location, or with ?wait=true the finished job (200).
void Started(Service& svc, const httplib::Request& req, httplib::Response& res,
             const Result<std::string>& id) {
  if (!id.ok()) return Error(res, StatusFor(id.status()), id.status().message());
  if (req.has_param("wait") && req.get_param_value("wait") == "true") {
    while (!svc.jobs().Wait(*id, std::chrono::seconds(1)))
      if (svc.jobs().stopping()) break;
    return Reply(res, 200, svc.jobs().Get(*id));
  }
  res.set_header("Location", "/jobs/" + *id);
  Reply(res, 202, {{"job_id", *id}, {"location", "/jobs/" + *id}, {"state", "queued"}});
}

// POST /restore: a complete backup back into a database.
void RestoreRoute(httplib::Server& s, Service& svc) {
  s.Post(
      "/restore", ReadingBody([&svc](const httplib::Request& req, httplib::Response& res) {
        J body;
        if (!Body(req, res, &body)) return;
        static const std::set<std::string> kFields = {
            "source_db", "table", "run_id", "latest", "target_url", "target_table", "if_exists"};
        for (const auto& [k, v] : body.items()) {
          if (!kFields.count(k)) return Error(res, 400, "unknown field", k);
          if (k == "latest" ? !v.is_boolean() : !v.is_string())
            return Error(res, 400, k == "latest" ? "must be true or false" : "must be a string", k);
        }
        RestoreOptions o;
        auto engine = ParseEngine(body.value("source_db", ""));
        if (!engine.ok()) return Error(res, 400, engine.status().message(), "source_db");
        o.engine = *engine;
        o.table = body.value("table", "");
        if (o.table.empty()) return Error(res, 400, "name the table to restore", "table");
        o.run_id = body.value("run_id", "");
        bool latest = body.value("latest", false);
        if (o.run_id.empty() == !latest)
          return Error(res, 400, "give run_id or latest: true (one of them)", "run_id");
        o.target_url = body.value("target_url", "");
        o.target_table = body.value("target_table", "");
        auto ie = ParseIfExists(body.value("if_exists", ""));
        if (!ie.ok()) return Error(res, 400, ie.status().message(), "if_exists");
        o.if_exists = *ie;
        o.batch_size = static_cast<size_t>(svc.config().run.batch_size);
        auto backups = ListBackups(svc.store(), svc.config().s3.backup_folder, o.engine, o.table);
        if (!backups.ok()) return Error(res, 500, backups.status().message());
        if (backups->empty())
          return Error(res, 404, "no complete backup of " + EngineName(o.engine) + "." + o.table,
                       "table");
        Started(svc, req, res, svc.StartRestore(o));
      }));
}

// The routes that start jobs: migrate, backup, sync, restore.
void JobRoutes(httplib::Server& s, Service& svc) {
  s.Post("/migrate", ReadingBody([&svc](const httplib::Request& req, httplib::Response& res) {
           J body;
           if (!Body(req, res, &body)) return;
           Started(svc, req, res, svc.StartMigrate());
         }));

  s.Post("/backup", ReadingBody([&svc](const httplib::Request& req, httplib::Response& res) {
           J body;
           if (!Body(req, res, &body)) return;
           std::vector<std::string> tables;
           if (body.contains("tables")) {
             bool good = body["tables"].is_array();
             for (const auto& t : good ? body["tables"] : J::array())
               if (t.is_string() && !t.get<std::string>().empty())
                 tables.push_back(t);
               else
                 good = false;
             if (!good) return Error(res, 400, "tables must be a list of table names", "tables");
           }
           for (const auto& [k, v] : body.items())
             if (k != "tables") return Error(res, 400, "unknown field; expected tables", k);
           Started(svc, req, res, svc.StartBackup(tables));
         }));

  s.Post(R"(/sync/([^/]+))",
         ReadingBody([&svc](const httplib::Request& req, httplib::Response& res) {
           std::string table = req.matches[1];
           J body;
           if (!Body(req, res, &body)) return;
           std::optional<int64_t> since;
           for (const auto& [k, v] : body.items()) {
             if (k != "last_sync_time")
               return Error(res, 400, "unknown field; expected last_sync_time", k);
             int64_t micros = 0;
             bool offset = false;
             if (!v.is_string() || !ParseSqlTimestamp(v.get<std::string>(), &micros, &offset))
               return Error(res, 400,
                            "last_sync_time must be an ISO 8601 time, e.g. 2024-01-01T00:00:00Z",
                            "last_sync_time");
             since = micros;
           }
           Started(svc, req, res, svc.StartSync({table}, since));
         }));
  RestoreRoute(s, svc);
}

// GET /backups: the complete backups, a page at a time.
void BackupsRoute(httplib::Server& s, Service& svc) {
  s.Get("/backups", [&svc](const httplib::Request& req, httplib::Response& res) {
    std::optional<Engine> engine;
    if (req.has_param("source_db") && !req.get_param_value("source_db").empty()) {
      auto e = ParseEngine(req.get_param_value("source_db"));
      if (!e.ok()) return Error(res, 400, e.status().message(), "source_db");
      engine = *e;
    }
    std::string table = req.has_param("table_name") ? req.get_param_value("table_name") : "";
    if (!table.empty() && !engine)
      return Error(res, 400, "table_name needs source_db", "source_db");
    int limit;
    if (!Limit(req, res, 50, 1000, &limit)) return;
    size_t offset = 0;
    if (req.has_param("cursor")) {
      auto n = ParseInt64(req.get_param_value("cursor"));
      if (!n || *n < 0) return Error(res, 400, "cursor is not one this API gave", "cursor");
      offset = static_cast<size_t>(*n);
    }
    auto list = ListBackups(svc.store(), svc.config().s3.backup_folder, engine, table);
    if (!list.ok()) return Error(res, StatusFor(list.status()), list.status().message());
    J items = J::array();
    for (size_t i = offset; i < list->size() && items.size() < static_cast<size_t>(limit); ++i) {
      const BackupListing& b = (*list)[i];
      items.push_back({{"source_db", EngineName(b.engine)},
                       {"table_name", b.table},
                       {"run_id", b.run_id},
                       {"rows", b.rows},
                       {"parts", b.parts},
                       {"bytes", b.bytes},
                       {"codec", b.codec},
                       {"finished_at", b.finished_at},
                       {"manifest", svc.store().Describe(b.manifest_key)},
                       {"restorable", true}});
    }
    size_t next = offset + items.size();
    Reply(res, 200,
          {{"backups", items},
           {"next_cursor", next < list->size() ? J(std::to_string(next)) : J(nullptr)}});
  });
}

// The routes that read: health, backups, DynamoDB tables and items, jobs, metrics, OpenAPI.
void ReadRoutes(httplib::Server& s, Service& svc) {
  s.Get("/health", [&svc](const httplib::Request&, httplib::Response& res) {
    auto [body, ok] = svc.Health(std::chrono::milliseconds(3000));
    Reply(res, ok ? 200 : 503, body);
  });

  BackupsRoute(s, svc);

  s.Get("/dynamodb/tables", [&svc](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"tables", svc.DynamoTables()}});
  });

  s.Get(R"(/dynamodb/([^/]+)/items)", [&svc](const httplib::Request& req, httplib::Response& res) {
    std::string name = req.matches[1];
    int limit;
    if (!Limit(req, res, 100, 1000, &limit)) return;
    J start = nullptr;
    if (req.has_param("cursor")) {
      std::string raw;
      if (!Unhex(req.get_param_value("cursor"), &raw) ||
          (start = J::parse(raw, nullptr, false)).is_discarded() || !start.is_object())
        return Error(res, 400, "cursor is not one this API gave", "cursor");
    }
    auto page = svc.DynamoItems(name, limit, start);
    if (!page.ok() && page.status().code() == StatusCode::kNotFound)
      return Error(res, 404, page.status().message(), "table_name");
    if (!page.ok()) return Error(res, StatusFor(page.status()), page.status().message());
    Reply(res, 200,
          {{"items", page->items},
           {"count", page->items.size()},
           {"next_cursor", page->last_evaluated_key.is_null()
                               ? J(nullptr)
                               : J(aws::Hex(page->last_evaluated_key.dump()))}});
  });

  s.Get("/jobs", [&svc](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"jobs", svc.jobs().List()}});
  });
  s.Get(R"(/jobs/([^/]+))", [&svc](const httplib::Request& req, httplib::Response& res) {
    J j = svc.jobs().Get(req.matches[1]);
    if (j.is_null()) return Error(res, 404, "no job " + std::string(req.matches[1]), "id");
    Reply(res, 200, j);
  });
  s.Get("/metrics", [&svc](const httplib::Request&, httplib::Response& res) {
    res.set_content(svc.RenderMetrics(), "text/plain; version=0.0.4");
  });
  s.Get("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(OpenApiDocument(), "application/json");
  });
}

// The change stream run inside the service: its state, start, stop.
void StreamRoutes(httplib::Server& s, Service& svc) {
  s.Get("/stream", [&svc](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, svc.stream().Describe());
  });
  s.Post("/stream/start", ReadingBody([&svc](const httplib::Request&, httplib::Response& res) {
           Status st = svc.stream().Start();
           if (!st.ok()) return Error(res, StatusFor(st), st.message());
           Reply(res, 202, svc.stream().Describe());
         }));
  s.Post("/stream/stop", ReadingBody([&svc](const httplib::Request&, httplib::Response& res) {
           const bool was = svc.stream().Stop();
           J body = svc.stream().Describe();
           body["was_running"] = was;
           Reply(res, 200, body);
         }));
}

}  // namespace

void ApiServer::Register() {
  // What the answers' Keep-Alive header says; the gate keeps to it.
  http_->set_keep_alive_timeout(std::max<time_t>(1, limits_.idle_timeout.count() / 1000));
  http_->set_keep_alive_max_count(limits_.requests_per_connection);
  http_->set_payload_max_length(limits_.frame.max_body_bytes);
  Guard(*http_, service_.config().api_token);
  JobRoutes(*http_, service_);
  ReadRoutes(*http_, service_);
  StreamRoutes(*http_, service_);
}

namespace {

// Room for `connections` sockets besides the process's other files (databases, logs, jobs).
void RaiseOpenFileLimit(size_t connections) {
  const rlim_t want = static_cast<rlim_t>(connections) + 256;
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= want) return;
  rlim_t had = r.rlim_cur;
  r.rlim_cur = std::min(want, r.rlim_max);
  setrlimit(RLIMIT_NOFILE, &r);
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < want)
    GetLogger("api")->warn(
        "the open files limit is {} (was {}): fewer than {} connections fit; raise it "
        "(ulimit -n) or expect connections to wait",
        r.rlim_cur, had, connections);
}

}  // namespace

Status ApiServer::Bind(int port) {
  const Config& config = service_.config();
  host_ = !config.api_host.empty()   ? config.api_host
          : config.api_token.empty() ? "127.0.0.1"
                                     : "0.0.0.0";
  RaiseOpenFileLimit(limits_.max_connections);
  if (Status s = gate_->Bind(host_, port); !s.ok())
    return Unavailable(s.message() + "; choose another with --port");
  return Status::Ok();
}

Status ApiServer::ServeBound() {
  gate_->Run();
  workers_->Shutdown();  // the requests taken are answered
  return Status::Ok();
}

void ApiServer::Serve(std::unique_ptr<Connection> c) {
  // A std::function is copyable: the connection goes in a shared holder.
  auto held = std::make_shared<std::unique_ptr<Connection>>(std::move(c));
  workers_->Submit([this, held] {
    std::unique_ptr<Connection> conn = std::move(*held);
    if (ServeOne(*conn)) gate_->Return(std::move(conn));
  });
}

bool ApiServer::ServeOne(Connection& c) {
  const bool last = c.served + 1 >= limits_.requests_per_connection || gate_->stopping();
  return http_->Serve(c, last, limits_.write_timeout);
}

Status ApiServer::Listen(int port) {
  RETURN_IF_ERROR(Bind(port));
  return ServeBound();
}

void ApiServer::Stop() {
  gate_->Stop();
}

}  // namespace di
