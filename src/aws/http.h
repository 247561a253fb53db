// HTTP request/response values and the transport interface every AWS call goes through.
// A transport is shared by all threads of the process: Send() must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace di::aws {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";
  std::string host;        // host or host:port
  std::string path = "/";  // decoded bytes; percent-encoded when the URL is built
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::vector<Header> headers;
  std::string body;
  // When set, the response body is handed over in pieces instead of being collected.
  // Returning false aborts the transfer.
  std::function<bool(std::string_view)> on_body;
  // When set and false after a failed attempt, that attempt is not retried: e.g. a streamed
  // body of which some bytes were already handed on (a retry would hand them on again).
  std::function<bool()> retry_safe;

  void SetHeader(std::string name, std::string value);
  const std::string* FindHeader(std::string_view name) const;  // case-insensitive
  std::string Url() const;
};

struct HttpResponse {
  long status = 0;
  std::vector<Header> headers;
  std::string body;  // empty when the request streamed it through on_body
  const std::string* FindHeader(std::string_view name) const;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // A transfer stalled (below 1 byte/s) for this long fails; large bodies are not cut.
  std::chrono::milliseconds read_timeout{60000};
};

// Sends one request. A transport-level failure (refused, reset, timeout, DNS) is an
// Unavailable status naming the host; any HTTP answer, 5xx included, is a response.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};
using HttpTransportPtr = std::shared_ptr<HttpTransport>;

// libcurl with a pool of handles that keep their connections alive; thread-safe.
HttpTransportPtr MakeCurlTransport(const TransportOptions& options = {});

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash).
std::string UriEncode(std::string_view s, bool keep_slash);
std::string UriDecode(std::string_view s);

}  // namespace di::aws
