// RequestServer: the API's routes and handlers (an httplib::Server, configured as usual) run
// for one whole request that the connection gate (http_gate.h) has read: httplib's own
// request processing over those bytes, its answer written to the connection's socket as one
// piece within the write deadline. Thread-safe as httplib::Server is once configured:
// workers serve different connections at once.
#pragma once

#include <chrono>

#include <httplib.h>

#include "api/http_gate.h"

namespace di {

class RequestServer : public httplib::Server {
 public:
  // Answers c's current request (c.in up to c.request_bytes, which are then dropped from
  // c.in); `last`: the answer says "Connection: close". True when the connection can carry
  // the next request: the answer went out in time, and neither side asked to close.
  bool Serve(Connection& c, bool last, std::chrono::milliseconds write_timeout);
};

}  // namespace di
