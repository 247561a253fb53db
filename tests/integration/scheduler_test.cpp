// The cron parser against Python's croniter on 2,000 random expressions and start times,
// and two schedulers sharing the stack's Redis: each firing runs once.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "core/clock.h"
#include "scheduler/scheduler.h"
#include "stack_env.h"

namespace di::testing {
namespace {

TEST(Scheduler, CronAgreesWithCroniterOnRandomExpressions) {
  std::string out;
  ASSERT_EQ(RunCommand(VenvPython() + " " + DI_SOURCE_DIR +
                           "/tests/integration/croniter_cases.py 2000 20261128",
                       &out),
            0)
      << out;
  std::istringstream lines(out);
  std::string line;
  int compared = 0, differ = 0;
  auto utc = TimeZone::Utc();
  while (std::getline(lines, line)) {
    size_t t1 = line.find('\t'), t2 = line.rfind('\t');
    ASSERT_NE(t1, t2) << line;
    std::string expr = line.substr(0, t1);
    int64_t start = std::stoll(line.substr(t1 + 1, t2 - t1 - 1));
    int64_t want = std::stoll(line.substr(t2 + 1));
    auto e = CronExpr::Parse(expr);
    ASSERT_TRUE(e.ok()) << expr << ": " << e.status().message();
    auto got = e->NextAfter(start, *utc);
    ++compared;
    if (!got || *got != want) {
      if (++differ <= 10)
        ADD_FAILURE() << "'" << expr << "' after " << start << ": croniter " << want << ", ours "
                      << (got ? std::to_string(*got) : "never");
    }
  }
  EXPECT_EQ(compared, 2000);
  EXPECT_EQ(differ, 0);
}

TEST(Scheduler, TwoInstancesOnOneRedisRunEachFiringOnce) {
  const Config& c = StackConfig();
  ASSERT_FALSE(c.schedule.redis_url.empty()) << "stack.env sets REDIS_URL";
  std::string prefix = "di-test:" + UniqueName("sched") + ":";
  auto a = MakeRedisCoordinator(c.schedule.redis_url, prefix);
  auto b = MakeRedisCoordinator(c.schedule.redis_url, prefix);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  std::atomic<int> runs_a{0}, runs_b{0};
  std::vector<int64_t> firings;
  std::mutex mu;
  auto job = [&](std::atomic<int>& counter) {
    return ScheduledJob{"sync", *CronExpr::Parse("*/30 * * * *"), [&](int64_t f) {
                          counter++;
                          std::lock_guard<std::mutex> lock(mu);
                          firings.push_back(f);
                        }};
  };
  auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1798761600));  // 2027
  FakeClock clock_a(start), clock_b(start);
  Scheduler sa({job(runs_a)}, TimeZone::Utc(), clock_a, **a, [](const std::string&) {});
  Scheduler sb({job(runs_b)}, TimeZone::Utc(), clock_b, **b, [](const std::string&) {});
  // Both instances step through 5 hours side by side, on two threads.
  std::thread ta([&] {
    for (int i = 0; i < 300; ++i, clock_a.Advance(std::chrono::minutes(1))) sa.RunDue();
  });
  std::thread tb([&] {
    for (int i = 0; i < 300; ++i, clock_b.Advance(std::chrono::minutes(1))) sb.RunDue();
  });
  ta.join();
  tb.join();
  EXPECT_EQ(runs_a + runs_b, 10);  // 00:00 ... 04:30, each once
  std::sort(firings.begin(), firings.end());
  EXPECT_EQ(std::unique(firings.begin(), firings.end()), firings.end());
  EXPECT_EQ(firings.size(), 10u);
  // The last firing is shared: a third instance started later finds nothing to catch up.
  auto last = (*a)->LastFiring("sync");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(**last, 1798761600 + 9 * 1800);
}

TEST(Scheduler, AnUnreachableRedisIsNamed) {
  auto r = MakeRedisCoordinator("redis://127.0.0.1:1/0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot connect to Redis at 127.0.0.1:1"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace di::testing
