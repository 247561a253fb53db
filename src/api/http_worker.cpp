#include "api/http_worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace di {
namespace {

// One request's bytes to read (then end of stream), and its answer gathered to be sent
// whole by Flush.
class RequestStream : public httplib::Stream {
 public:
  explicit RequestStream(const Connection& c) : c_(c) {}

  bool is_readable() const override { return read_ < c_.request_bytes; }
  bool is_writable() const override { return true; }  // writes are gathered
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, c_.request_bytes - read_);
    std::memcpy(ptr, c_.in.data() + read_, n);
    read_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(getsockname, ip, port);
  }
  socket_t socket() const override { return c_.fd; }

  // Sends the answer; false when the socket failed or did not take it all by `deadline`.
  bool Flush(GateClock::time_point deadline) {
    size_t sent = 0;
    while (sent < out_.size()) {
      ssize_t n = send(c_.fd, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += static_cast<size_t>(n);
      else if (n == 0 || (errno != EINTR && !(errno == EAGAIN && Writable(deadline))))
        return false;
    }
    return true;
  }

 private:
  bool Writable(GateClock::time_point deadline) const {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - GateClock::now());
    if (left.count() <= 0) return false;
    pollfd p{c_.fd, POLLOUT, 0};
    return poll(&p, 1, static_cast<int>(left.count())) > 0 && !(p.revents & (POLLERR | POLLHUP));
  }
  template <typename Lookup>
  void Address(Lookup lookup, std::string& ip, int& port) const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    char text[INET_ADDRSTRLEN] = "";
    if (lookup(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
        inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text)) {
      ip = text;
      port = ntohs(addr.sin_port);
    }
  }

  const Connection& c_;
  size_t read_ = 0;
  std::string out_;
};

}  // namespace

bool RequestServer::Serve(Connection& c, bool last, std::chrono::milliseconds write_timeout) {
  RequestStream stream(c);
  bool closed = false;
  bool ok = process_request(stream, last, closed, nullptr);
  c.in.erase(0, c.request_bytes);
  c.request_bytes = 0;
  ++c.served;
  bool sent = stream.Flush(GateClock::now() + write_timeout);
  return ok && sent && !closed && !last && !c.peer_closed;
}

}  // namespace di
