#include "api/http_gate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "api/metrics.h"
#include "core/log.h"

namespace di {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kTick{50};  // how often deadlines are looked at
// After a refusal, what the client still sends is read and dropped until it stops for
// kLinger, kLingerMax at most: a close with unread input would reset the connection, and the
// client could lose the answer.
constexpr milliseconds kLinger{1000};
constexpr milliseconds kLingerMax{5000};
constexpr milliseconds kAcceptPause{100};  // out of file descriptors: accept again after
constexpr size_t kAcceptsPerWake = 256;
constexpr size_t kReadsPerWake = 4;  // of 64 KiB: a fast sender does not starve the rest

const char* Reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    default:
      return "Service Unavailable";
  }
}

// A whole answer with a JSON error body (as the API's own: server.cpp) that closes the
// connection.
std::string Answer(int status, const std::string& message) {
  nlohmann::json body = {{"error", message}};
  if (status == 413) body["field"] = "body";
  std::string text = body.dump(2) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) +
         (status == 503 ? "\r\nRetry-After: 1" : "") + "\r\nConnection: close\r\n\r\n" + text;
}

// As much of `data` as the socket takes now (answers are small: all of it, in practice).
void SendNow(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

void Count(const std::string& reason) {
  Metrics::Global().Add("di_api_connections_refused_total", {{"reason", reason}});
}

// A connection past the cap: 503 at once, and closed.
void TurnAway(int fd, size_t cap) {
  char sink[4096];  // what the client sent already: read, so closing sends no reset
  while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  SendNow(fd, Answer(503, "the server has " + std::to_string(cap) +
                              " connections open, its limit; try again shortly"));
  close(fd);
  Count("connection_cap");
}

std::string Millis(milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

Connection::~Connection() {
  close(fd);
  open_->fetch_sub(1);
}

ConnectionGate::ConnectionGate(HttpLimits limits, Dispatch dispatch)
    : limits_(limits), dispatch_(std::move(dispatch)) {
  Metrics& m = Metrics::Global();
  m.Describe("di_api_connections_refused_total", "counter",
             "API connections closed by the server, per reason (connection_cap, header_timeout, "
             "body_timeout, body_too_large, header_too_large, bad_request).");
  m.Describe("di_api_connections_open", "gauge", "API connections open.");
}

ConnectionGate::~ConnectionGate() {
  held_.clear();
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_})
    if (fd >= 0) close(fd);
}

Status ConnectionGate::Bind(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return InvalidArgument(host + " is not an IPv4 address");
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, SOMAXCONN) != 0)
    return Unavailable("cannot listen on " + where + ": " + std::strerror(errno));
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0)
    return Unavailable("cannot serve " + where + ": " + std::strerror(errno));
  Watch(listen_fd_, true);
  Watch(wake_fd_, true);
  return Status::Ok();
}

void ConnectionGate::Run() {
  std::array<epoll_event, 128> events;
  auto last_sweep = GateClock::now();
  while (!stop_.load()) {
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                       static_cast<int>(kTick.count()));
    auto now = GateClock::now();
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == listen_fd_) {
        AcceptAll(now);
      } else if (fd == wake_fd_) {
        TakeReturned(now);
      } else if (auto it = held_.find(fd); it != held_.end()) {
        Read(*it->second, now);
        Advance(fd, now);
      }
    }
    if (now - last_sweep >= kTick) {
      Sweep(now);
      last_sweep = now;
    }
  }
  close(listen_fd_);  // connecting clients are refused from here on
  listen_fd_ = -1;
  held_.clear();
  std::lock_guard lock(mu_);
  returned_.clear();
}

void ConnectionGate::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    // The counter is full: the gate is awake already.
  }
}

void ConnectionGate::Return(std::unique_ptr<Connection> c) {
  {
    std::lock_guard lock(mu_);
    if (stop_.load()) return;  // closed on the way out
    returned_.push_back(std::move(c));
  }
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // As in Stop.
  }
}

void ConnectionGate::AcceptAll(GateClock::time_point now) {
  for (size_t i = 0; i < kAcceptsPerWake; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
    if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      // Out of descriptors (EMFILE, ENFILE) or memory: the listening socket stays readable,
      // so stop watching it for a while instead of spinning on it.
      GetLogger("api")->warn("cannot accept a connection: {}; trying again in {}",
                             std::strerror(errno), Millis(kAcceptPause));
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      accept_paused_until_ = now + kAcceptPause;
    }
    if (fd < 0) return;
    if (open_.load() >= limits_.max_connections) {
      TurnAway(fd, limits_.max_connections);
      continue;
    }
    open_.fetch_add(1);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>(fd, &open_);
    c->deadline = now + limits_.header_timeout;
    held_[fd] = std::move(c);
    Watch(fd, true);
  }
}

void ConnectionGate::Read(Connection& c, GateClock::time_point now) {
  char buf[64 << 10];
  for (size_t i = 0; i < kReadsPerWake; ++i) {
    ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && c.phase == Connection::Phase::kDraining) {
      c.deadline = std::min(now + kLinger, c.drain_end);
    } else if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
    }
    if (n > 0) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c.peer_closed = true;
    return;
  }
}

// What the bytes read so far make of the connection's request: wait, dispatch or refuse.
void ConnectionGate::Advance(int fd, GateClock::time_point now) {
  Connection& c = *held_.at(fd);
  if (c.phase == Connection::Phase::kDraining) {
    if (c.peer_closed) Close(fd);
    return;
  }
  if (c.phase == Connection::Phase::kIdle && !c.in.empty()) {
    c.phase = Connection::Phase::kHeader;
    c.deadline = now + limits_.header_timeout;
  }
  Frame f = FrameRequest(c.in, limits_.frame);
  if (f.state == Frame::State::kRefused)
    return Refuse(c, f.status, f.message,
                  f.status == 413   ? "body_too_large"
                  : f.status == 431 ? "header_too_large"
                                    : "bad_request",
                  now);
  if (f.state == Frame::State::kComplete) {
    c.request_bytes = f.length;
    Watch(fd, false);
    auto owned = std::move(held_.at(fd));
    held_.erase(fd);
    return dispatch_(std::move(owned));
  }
  if (c.peer_closed) return Close(fd);  // gone before its request was whole
  if (f.header_bytes) OnHeader(c, f, now);
}

// A whole header, its body still to come: the body's deadline starts, and a client that
// waits for "100 Continue" gets it here (the header then goes on without its Expect).
void ConnectionGate::OnHeader(Connection& c, const Frame& f, GateClock::time_point now) {
  if (c.phase == Connection::Phase::kHeader) {
    c.phase = Connection::Phase::kBody;
    c.deadline = now + limits_.body_timeout;
  }
  if (f.expect_continue) {
    SendNow(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    c.in.erase(f.expect_begin, f.expect_end - f.expect_begin);
  }
}

// Answers `status`, then closes once the client has stopped sending (kLinger).
void ConnectionGate::Refuse(Connection& c, int status, const std::string& message,
                            const char* reason, GateClock::time_point now) {
  SendNow(c.fd, Answer(status, message));
  shutdown(c.fd, SHUT_WR);
  c.phase = Connection::Phase::kDraining;
  c.in.clear();
  c.deadline = now + kLinger;
  c.drain_end = now + kLingerMax;
  Count(reason);
  GetLogger("api")->info("refused a request: {} {}", status, message);
}

void ConnectionGate::TakeReturned(GateClock::time_point now) {
  uint64_t count;
  if (read(wake_fd_, &count, sizeof count) < 0) {
    // Nothing to read: woken already.
  }
  std::vector<std::unique_ptr<Connection>> back;
  {
    std::lock_guard lock(mu_);
    back.swap(returned_);
  }
  for (auto& c : back) {
    int fd = c->fd;
    c->phase = Connection::Phase::kIdle;
    c->deadline = now + limits_.idle_timeout;
    c->request_bytes = 0;
    bool pipelined = !c->in.empty();
    held_[fd] = std::move(c);
    Watch(fd, true);
    if (pipelined) Advance(fd, now);
  }
}

void ConnectionGate::Sweep(GateClock::time_point now) {
  if (accept_paused_until_ != GateClock::time_point{} && now >= accept_paused_until_) {
    accept_paused_until_ = {};
    Watch(listen_fd_, true);
  }
  std::vector<int> expired;
  for (const auto& [fd, c] : held_)
    if (now >= c->deadline) expired.push_back(fd);
  for (int fd : expired) Expire(*held_.at(fd), now);
  Metrics::Global().Set("di_api_connections_open", {}, static_cast<double>(open_.load()));
}

// A deadline passed: a kept-alive or silent connection is closed, a slow request answered 408.
void ConnectionGate::Expire(Connection& c, GateClock::time_point now) {
  using Phase = Connection::Phase;
  if (c.phase == Phase::kHeader && c.in.empty()) Count("header_timeout");
  if (c.phase == Phase::kIdle || c.phase == Phase::kDraining || c.in.empty()) return Close(c.fd);
  if (c.phase == Phase::kHeader)
    return Refuse(c, 408,
                  "the request header did not arrive within " + Millis(limits_.header_timeout),
                  "header_timeout", now);
  Refuse(c, 408, "the request body did not arrive within " + Millis(limits_.body_timeout),
         "body_timeout", now);
}

void ConnectionGate::Watch(int fd, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd_, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, on ? &ev : nullptr);
}

void ConnectionGate::Close(int fd) {
  held_.erase(fd);  // the Connection closes its socket
}

}  // namespace di
