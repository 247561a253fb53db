// What the libFuzzer targets of fuzz/ share (docs/fuzzing.md): the input as text, a failed
// property reported as a crash, the logs kept quiet, and an AWS transport that answers every
// request with the answer the input chose. Header-only; each target is one process running
// one input at a time (a target's own threads aside), so nothing here is thread-safe unless
// it says so.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/log.h"

namespace di::fuzz {

inline std::string_view Text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the target checks does not hold: reported like a crash, so that libFuzzer keeps
// the input (crash-<sha1> under the artifact folder) and the run fails.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}

// The product's log lines (every API request logs one) are dropped: they would bury
// libFuzzer's own output and slow every input down. Call once, from LLVMFuzzerInitialize or
// the first input.
inline void QuietLogs() {
  static std::once_flag once;
  std::call_once(once, [] { RouteStderr([](std::string_view) {}); });
}

// An HTTP transport that answers every request with `answer` (status, headers, body as the
// input chose them) and keeps the requests it was sent. Thread-safe: the DynamoDB client sends
// a batch's requests from several threads.
class CannedTransport : public aws::HttpTransport {
 public:
  explicit CannedTransport(aws::HttpResponse answer) : answer_(std::move(answer)) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++sent_;
    if (request.on_body) {
      aws::HttpResponse streamed = answer_;
      streamed.body.clear();
      // In pieces, as libcurl hands a body on.
      for (size_t i = 0; i < answer_.body.size(); i += 7)
        if (!request.on_body(std::string_view(answer_.body).substr(i, 7))) break;
      return streamed;
    }
    return answer_;
  }
  size_t sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  const aws::HttpResponse answer_;
  size_t sent_ = 0;
};

}  // namespace di::fuzz
