#include "aws/retry.h"

#include <gtest/gtest.h>

namespace di::aws {
namespace {

TEST(Retry, ClassifiesLikeTheSdkStandardMode) {
  struct Case {
    long status;
    const char* code;
    RetryKind want;
  };
  const Case cases[] = {
      {400, "ThrottlingException", RetryKind::kThrottle},
      {400, "ProvisionedThroughputExceededException", RetryKind::kThrottle},
      {503, "SlowDown", RetryKind::kThrottle},
      {429, "", RetryKind::kThrottle},
      {500, "InternalError", RetryKind::kTransient},
      {502, "", RetryKind::kTransient},
      {503, "", RetryKind::kTransient},
      {504, "", RetryKind::kTransient},
      {400, "RequestTimeout", RetryKind::kTransient},
      {400, "ValidationException", RetryKind::kNone},
      {403, "SignatureDoesNotMatch", RetryKind::kNone},
      {404, "NoSuchBucket", RetryKind::kNone},
      {400, "ResourceNotFoundException", RetryKind::kNone},
      {409, "", RetryKind::kNone},
  };
  for (const auto& c : cases)
    EXPECT_EQ(ClassifyError(c.status, c.code), c.want) << c.status << " " << c.code;
}

TEST(Retry, BackoffIsFullJitterCappedExponential) {
  RetryOptions o;
  o.base_delay = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(1000);
  EXPECT_EQ(BackoffDelay(o, 1, 1.0).count(), 100);
  EXPECT_EQ(BackoffDelay(o, 2, 1.0).count(), 200);
  EXPECT_EQ(BackoffDelay(o, 3, 1.0).count(), 400);
  EXPECT_EQ(BackoffDelay(o, 4, 1.0).count(), 800);
  EXPECT_EQ(BackoffDelay(o, 5, 1.0).count(), 1000);   // capped
  EXPECT_EQ(BackoffDelay(o, 60, 1.0).count(), 1000);  // no overflow
  EXPECT_EQ(BackoffDelay(o, 3, 0.5).count(), 200);
  EXPECT_EQ(BackoffDelay(o, 3, 0.0).count(), 0);
}

TEST(Retry, BudgetDrainsAndRefills) {
  RetryBudget b(20);
  EXPECT_TRUE(b.TryAcquire(RetryKind::kTransient));  // 15
  EXPECT_TRUE(b.TryAcquire(RetryKind::kTimeout));    // 5
  EXPECT_FALSE(b.TryAcquire(RetryKind::kTimeout));   // needs 10
  EXPECT_TRUE(b.TryAcquire(RetryKind::kThrottle));   // 0
  EXPECT_FALSE(b.TryAcquire(RetryKind::kTransient));
  b.OnSuccess(10);
  EXPECT_EQ(b.available(), 10);
  b.OnSuccess(0);
  EXPECT_EQ(b.available(), 11);
  b.OnSuccess(100);
  EXPECT_EQ(b.available(), 20);  // never above capacity
}

}  // namespace
}  // namespace di::aws
