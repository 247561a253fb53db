// The REST API of docs/api.md on cpp-httplib: JSON in and out, errors as
// {"error": "...", "field": "..."} with 400/401/404/409/503 as specified. With API_TOKEN
// every endpoint but /health, /metrics and /openapi.json needs "Authorization: Bearer
// <token>" (compared in constant time); without one the server listens on loopback only.
// Table names in paths are looked up in the mapping (404 otherwise) and never reach SQL.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/service.h"

namespace httplib {
class Server;
}

namespace di {

class ApiServer {
 public:
  explicit ApiServer(Service& service);
  ~ApiServer();
  // Binds and serves until Stop(); the host is 0.0.0.0 with a token, 127.0.0.1 without.
  Status Listen(int port);
  void Stop();
  // Binds first, so the caller knows the port is taken before it says "listening".
  Status Bind(int port);
  Status ServeBound();
  std::string host() const { return host_; }

  // Every (method, OpenAPI path) the server answers; the OpenAPI document must list
  // exactly these.
  static std::vector<std::pair<std::string, std::string>> Routes();

 private:
  void Register();
  Service& service_;
  std::unique_ptr<httplib::Server> http_;
  std::string host_;
};

// The OpenAPI 3 description served at /openapi.json.
const std::string& OpenApiDocument();

}  // namespace di
