// The REST API of docs/api.md on cpp-httplib: JSON in and out, errors as
// {"error": "...", "field": "..."} with 400/401/404/409/503 as specified. With API_TOKEN
// every endpoint but /health, /metrics and /openapi.json needs "Authorization: Bearer
// <token>" (compared in constant time); without one the server listens on loopback only.
// Table names in paths are looked up in the mapping (404 otherwise) and never reach SQL.
// Connections go through a ConnectionGate (http_gate.h) within HttpLimits: idle, half-open
// and slow clients hold no worker, time out, and are capped; a worker serves each request
// once it is whole. Stop() is thread-safe; the rest is called from one thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/http_gate.h"
#include "api/service.h"

namespace di {

class RequestServer;
class WorkerPool;

class ApiServer {
 public:
  explicit ApiServer(Service& service, HttpLimits limits = {});
  ~ApiServer();
  // Binds and serves until Stop(); the host is API_HOST when set, else 0.0.0.0 with a token
  // and 127.0.0.1 without.
  Status Listen(int port);
  // Stops accepting; ServeBound returns once the requests being served are answered.
  void Stop();
  // Binds first, so the caller knows the port is taken before it says "listening". Raises
  // the process's soft limit of open files to fit the connection cap where the hard limit
  // allows (a warning in the log where it does not).
  Status Bind(int port);
  Status ServeBound();
  std::string host() const { return host_; }
  // Client connections open now (being read, served, kept alive or refused).
  size_t open_connections() const { return gate_->open_connections(); }
  // Serves c's current request, read whole as the gate dispatches it (c.request_bytes set),
  // on the calling thread, its answer written to c.fd: what a worker does with each request.
  // True when the connection can carry the next one. The API fuzz target's way in
  // (fuzz/api_request.cpp): the routes and handlers without a listening socket.
  bool ServeOne(Connection& c);

  // Every (method, OpenAPI path) the server answers; the OpenAPI document must list
  // exactly these.
  static std::vector<std::pair<std::string, std::string>> Routes();

 private:
  void Register();
  void Serve(std::unique_ptr<Connection> c);
  Service& service_;
  const HttpLimits limits_;
  std::unique_ptr<RequestServer> http_;
  std::unique_ptr<ConnectionGate> gate_;
  std::unique_ptr<WorkerPool> workers_;  // after the gate: gone before it
  std::string host_;
};

// The OpenAPI 3 description served at /openapi.json.
const std::string& OpenApiDocument();

}  // namespace di
