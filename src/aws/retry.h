// Retries in the AWS SDKs' "standard" mode: up to max_attempts tries, exponential backoff
// with full jitter, retries only on throttling, 5xx, timeouts and connection errors, and a
// token-bucket retry budget shared by all calls of a client so that an outage does not
// multiply the load. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

namespace di::aws {

struct RetryOptions {
  int max_attempts = 4;                          // first try + MAX_RETRIES
  std::chrono::milliseconds base_delay{5000};    // RETRY_DELAY
  std::chrono::milliseconds max_backoff{20000};  // cap of one wait
  int budget_tokens = 500;                       // the SDKs' initial retry quota
};

enum class RetryKind { kNone, kTransient, kThrottle, kTimeout };

// What an error answer deserves. `code` is the AWS error code ("" for none).
RetryKind ClassifyError(long http_status, std::string_view code);

struct RetryStats {
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> throttled{0};
  std::atomic<uint64_t> budget_exhausted{0};
};

class RetryBudget {
 public:
  explicit RetryBudget(int tokens) : capacity_(tokens), tokens_(tokens) {}
  // Takes the cost of one retry (5, or 10 after a timeout); false when the budget is spent.
  bool TryAcquire(RetryKind kind);
  // A success gives back what its retries took, or 1 token when it needed none.
  void OnSuccess(int taken);
  int available() const;
  static int Cost(RetryKind kind) { return kind == RetryKind::kTimeout ? 10 : 5; }

 private:
  mutable std::mutex mu_;
  int capacity_;
  int tokens_;
};

// The wait before retry number `retry` (1-based): uniform in [0, min(cap, base * 2^(retry-1))].
std::chrono::milliseconds BackoffDelay(const RetryOptions& options, int retry, double uniform01);

}  // namespace di::aws
