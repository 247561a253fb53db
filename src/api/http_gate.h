// ConnectionGate: the front of the API's HTTP server. One thread (the caller of Run) accepts
// connections and reads their requests with epoll, so a connection that is idle, half-open or
// sends a byte at a time holds no worker thread: only a request read whole (http_framing.h)
// goes to the dispatch callback, which serves it on a worker and hands the connection back
// (Return) for its next request. The gate itself answers, and then closes, what it refuses:
// a connection past the cap (503), a request header or body not in by its deadline (408), a
// body over the limit (413), a header over its limit (431), a malformed request (400).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/http_framing.h"
#include "core/status.h"

namespace di {

using GateClock = std::chrono::steady_clock;

// The limits of the API's connections (docs/api.md, "Connections and limits").
struct HttpLimits {
  size_t max_connections = 1000;  // open at once; the next ones get 503 and are closed
  // From a connection's first byte (or its opening) to its header's end.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};   // from the header's end to the body's
  std::chrono::milliseconds idle_timeout{5'000};    // between requests on a kept-alive one
  std::chrono::milliseconds write_timeout{10'000};  // a whole answer (http_worker.h)
  FrameLimits frame;
  size_t workers = 32;                   // threads serving requests, started as needed
  size_t requests_per_connection = 100;  // then the answer says Connection: close
};

// One client connection: its socket (closed with it) and what it has sent that is not yet
// served. Owned by the gate while it waits for a request, by a worker while that serves it.
struct Connection {
  Connection(int fd, std::atomic<size_t>* open) : fd(fd), open_(open) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const int fd;
  std::string in;            // bytes received, from the current request's first
  size_t request_bytes = 0;  // the current request's length, when it is whole
  size_t served = 0;         // requests answered
  bool peer_closed = false;  // the client shut down its side after the current request

  enum class Phase { kHeader, kBody, kIdle, kDraining };
  Phase phase = Phase::kHeader;
  GateClock::time_point deadline;
  GateClock::time_point drain_end;  // kDraining: the last moment, however much still comes

 private:
  std::atomic<size_t>* open_;
};

// Run's thread only, but for Stop, stopping, Return and open_connections (thread-safe).
// The gate outlives the connections it opened (they count themselves out of it).
class ConnectionGate {
 public:
  // Called on Run's thread with each whole request: must hand it on (to a queue), not serve it.
  using Dispatch = std::function<void(std::unique_ptr<Connection>)>;
  ConnectionGate(HttpLimits limits, Dispatch dispatch);
  ~ConnectionGate();

  // Binds `host` (an IPv4 address) and `port`; Unavailable when it cannot.
  Status Bind(const std::string& host, int port);
  // Accepts and reads until Stop(); then closes the connections it holds. Once.
  void Run();
  // Thread-safe; Run returns soon after.
  void Stop();
  bool stopping() const { return stop_.load(); }
  // Thread-safe: a connection whose request was answered, for its next one. After Stop it
  // is closed.
  void Return(std::unique_ptr<Connection> c);
  size_t open_connections() const { return open_.load(); }

 private:
  void AcceptAll(GateClock::time_point now);
  void Read(Connection& c, GateClock::time_point now);
  void Advance(int fd, GateClock::time_point now);
  void OnHeader(Connection& c, const Frame& f, GateClock::time_point now);
  void Refuse(Connection& c, int status, const std::string& message, const char* reason,
              GateClock::time_point now);
  void TakeReturned(GateClock::time_point now);
  void Sweep(GateClock::time_point now);
  void Expire(Connection& c, GateClock::time_point now);
  void Watch(int fd, bool on);
  void Close(int fd);

  const HttpLimits limits_;
  const Dispatch dispatch_;
  int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> open_{0};
  std::unordered_map<int, std::unique_ptr<Connection>> held_;  // the Run thread's only
  GateClock::time_point accept_paused_until_{};                // out of descriptors: accept later
  std::mutex mu_;                                              // guards returned_
  std::vector<std::unique_ptr<Connection>> returned_;
};

}  // namespace di
