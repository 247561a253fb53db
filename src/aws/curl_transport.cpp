// HttpTransport on libcurl: a pool of easy handles, each keeping its connection alive, so
// many threads can have requests in flight at once and reuse connections.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "aws/http.h"
#include "core/lazy_lib.h"
#include "core/strings.h"

namespace di::aws {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  size_t read_offset = 0;
  bool aborted_by_sink = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  // Error answers are collected whole so they can be parsed, even when streaming.
  if (t->request->on_body && t->response->status < 300) {
    if (!t->request->on_body(chunk)) {
      t->aborted_by_sink = true;
      return 0;
    }
  } else {
    t->response->body.append(chunk);
  }
  return chunk.size();
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (StartsWith(line, "HTTP/")) {  // a new status line (after 100-continue or a redirect)
    t->response->headers.clear();
    auto parts = Split(line, ' ');
    if (parts.size() > 1) t->response->status = std::atol(std::string(parts[1]).c_str());
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos)
    t->response->headers.push_back(
        {std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1)))});
  return line.size();
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string& body = t->request->body;
  size_t len = std::min(size * n, body.size() - t->read_offset);
  std::memcpy(buffer, body.data() + t->read_offset, len);
  t->read_offset += len;
  return len;
}

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(const TransportOptions& options) : options_(options) {}
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    RETURN_IF_ERROR(kCurlLibrary.Load());  // libcurl is opened by the first request
    static CurlGlobal global;
    CURL* h = Acquire();
    HttpResponse response;
    Transfer t{&request, &response};
    curl_slist* headers = nullptr;
    for (const auto& hd : request.headers)
      headers = curl_slist_append(headers, (hd.name + ": " + hd.value).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!request.FindHeader("Content-Type")) headers = curl_slist_append(headers, "Content-Type:");
    std::string url = request.Url();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options_.read_timeout.count() / 1000)));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(h, CURLOPT_READDATA, &t);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      std::string why = curl_easy_strerror(rc);
      curl_easy_cleanup(h);  // a failed connection is not reused
      if (t.aborted_by_sink) return Aborted("the response body was refused by its reader");
      return Unavailable(request.method + " " + request.scheme + "://" + request.host +
                         " failed: " + why);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    Release(h);
    return response;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        curl_easy_reset(h);  // keeps the live connection, forgets the options
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(h);
  }

  TransportOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

HttpTransportPtr MakeCurlTransport(const TransportOptions& options) {
  return std::make_shared<CurlTransport>(options);
}

}  // namespace di::aws
