#include "aws/retry.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace di::aws {

RetryKind ClassifyError(long http_status, std::string_view code) {
  static constexpr std::array<std::string_view, 15> kThrottle = {
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "TransactionInProgressException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "RequestThrottled",
      "SlowDown",
      "PriorRequestNotComplete",
      "EC2ThrottledException",
      "ThrottlingError"};
  static constexpr std::array<std::string_view, 4> kTransient = {
      "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalServerError"};
  for (auto c : kThrottle)
    if (code == c) return RetryKind::kThrottle;
  for (auto c : kTransient)
    if (code == c) return RetryKind::kTransient;
  if (http_status == 429) return RetryKind::kThrottle;
  if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
    return RetryKind::kTransient;
  return RetryKind::kNone;
}

bool RetryBudget::TryAcquire(RetryKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  int cost = Cost(kind);
  if (tokens_ < cost) return false;
  tokens_ -= cost;
  return true;
}

void RetryBudget::OnSuccess(int taken) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::min(capacity_, tokens_ + (taken > 0 ? taken : 1));
}

int RetryBudget::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

std::chrono::milliseconds BackoffDelay(const RetryOptions& options, int retry, double uniform01) {
  double ceiling =
      static_cast<double>(options.base_delay.count()) * std::ldexp(1.0, std::min(retry - 1, 30));
  ceiling = std::min(
      ceiling, static_cast<double>(std::max(options.max_backoff, options.base_delay).count()));
  return std::chrono::milliseconds(static_cast<int64_t>(ceiling * std::clamp(uniform01, 0.0, 1.0)));
}

}  // namespace di::aws
