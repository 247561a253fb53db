// CronExpr::NextAfter table-driven (UTC and a DST zone) and the Scheduler on a fake clock.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/value.h"
#include "scheduler/scheduler.h"

namespace di {
namespace {

int64_t At(int y, unsigned m, unsigned d, int h, int mi) {
  return int64_t{DaysFromCivil(y, m, d)} * 86400 + h * 3600 + mi * 60;
}

TEST(CronNext, TableInUtc) {
  auto utc = TimeZone::Utc();
  struct Case {
    const char* expr;
    int64_t after, want;
  };
  const Case cases[] = {
      {"0 2 * * *", At(2026, 1, 1, 1, 59), At(2026, 1, 1, 2, 0)},
      {"0 2 * * *", At(2026, 1, 1, 2, 0), At(2026, 1, 2, 2, 0)},  // strictly after
      {"*/30 * * * *", At(2026, 1, 1, 10, 5), At(2026, 1, 1, 10, 30)},
      {"*/30 * * * *", At(2026, 12, 31, 23, 45), At(2027, 1, 1, 0, 0)},
      {"15 9-17/4 * * MON-FRI", At(2026, 11, 27, 17, 0), At(2026, 11, 27, 17, 15)},
      {"15 9-17/4 * * MON-FRI", At(2026, 11, 27, 17, 15), At(2026, 11, 30, 9, 15)},  // Fri->Mon
      {"0 0 29 FEB *", At(2026, 3, 1, 0, 0), At(2028, 2, 29, 0, 0)},
      {"0 12 13 * FRI", At(2026, 1, 1, 0, 0), At(2026, 1, 2, 12, 0)},  // OR: a Friday first
      {"0 12 13 * *", At(2026, 1, 1, 0, 0), At(2026, 1, 13, 12, 0)},
      {"0 0 * JAN,jul 0", At(2026, 2, 1, 0, 0), At(2026, 7, 5, 0, 0)},  // names, Sunday = 0
      {"0 0 * * 7", At(2026, 11, 28, 0, 0), At(2026, 11, 29, 0, 0)},    // 7 is Sunday too
      {"@hourly", At(2026, 1, 1, 0, 30), At(2026, 1, 1, 1, 0)},
      {"5/20 * * * *", At(2026, 1, 1, 0, 46), At(2026, 1, 1, 1, 5)},  // 5-59/20
      // Read as cron does (croniter 7 differs on these two forms).
      {"0 0 * * 5-5", At(2026, 11, 28, 0, 0), At(2026, 12, 4, 0, 0)},  // Friday only
      {"0 0 1 SEP-9 *", At(2026, 1, 1, 0, 0), At(2026, 9, 1, 0, 0)},
  };
  for (const auto& c : cases) {
    auto e = CronExpr::Parse(c.expr);
    ASSERT_TRUE(e.ok()) << c.expr;
    auto n = e->NextAfter(c.after, *utc);
    ASSERT_TRUE(n.has_value()) << c.expr;
    EXPECT_EQ(*n, c.want) << c.expr << ": got " << *n - c.want << " s off";
  }
  auto never = CronExpr::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->NextAfter(At(2026, 1, 1, 0, 0), *utc).has_value());
}

TEST(CronNext, WallClockOfTheScheduleZoneAcrossDst) {
  auto madrid = TimeZone::Load("Europe/Madrid");
  ASSERT_TRUE(madrid.ok()) << madrid.status().message();
  auto e = CronExpr::Parse("0 2 * * *");
  ASSERT_TRUE(e.ok());
  // Winter: 02:00 CET = 01:00 UTC.
  EXPECT_EQ(*e->NextAfter(At(2026, 1, 10, 0, 0), **madrid), At(2026, 1, 10, 1, 0));
  // Summer: 02:00 CEST = 00:00 UTC.
  EXPECT_EQ(*e->NextAfter(At(2026, 7, 10, 0, 0) - 3600, **madrid), At(2026, 7, 10, 0, 0));
  // 29 March 2026: 02:00 does not exist (clocks jump to 03:00); it fires at the jump.
  EXPECT_EQ(*e->NextAfter(At(2026, 3, 28, 12, 0), **madrid), At(2026, 3, 29, 1, 0));
  // 25 October 2026: 02:30 happens twice; it fires once, at the first.
  auto half = CronExpr::Parse("30 2 * * *");
  ASSERT_TRUE(half.ok());
  int64_t first = *half->NextAfter(At(2026, 10, 24, 12, 0), **madrid);
  EXPECT_EQ(first, At(2026, 10, 25, 0, 30));                              // 02:30 CEST
  EXPECT_EQ(*half->NextAfter(first, **madrid), At(2026, 10, 26, 1, 30));  // next day, CET
}

std::chrono::system_clock::time_point Tp(int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

TEST(SchedulerTest, RunsEachFiringOnceOnAFakeClock) {
  FakeClock clock(Tp(At(2026, 1, 1, 0, 0) + 10));
  auto local = MakeLocalCoordinator();
  std::vector<int64_t> backups, syncs;
  std::vector<ScheduledJob> jobs;
  jobs.push_back(
      {"backup", *CronExpr::Parse("0 2 * * *"), [&](int64_t f) { backups.push_back(f); }});
  jobs.push_back(
      {"sync", *CronExpr::Parse("*/30 * * * *"), [&](int64_t f) { syncs.push_back(f); }});
  std::vector<std::string> log;
  Scheduler s(std::move(jobs), TimeZone::Utc(), clock, *local,
              [&](const std::string& l) { log.push_back(l); });
  // Step through 3 hours a minute at a time: due firings run once each.
  for (int i = 0; i < 180; ++i) {
    s.RunDue();
    clock.Advance(std::chrono::minutes(1));
  }
  EXPECT_EQ(backups, std::vector<int64_t>{At(2026, 1, 1, 2, 0)});
  ASSERT_EQ(syncs.size(), 5u);  // 00:30 ... 02:30 (00:00 was before the start)
  EXPECT_EQ(syncs.front(), At(2026, 1, 1, 0, 30));
  EXPECT_EQ(syncs.back(), At(2026, 1, 1, 2, 30));
  // A long pause (a job that ran 2 hours): the passed firings collapse into one run.
  clock.Advance(std::chrono::hours(2));
  s.RunDue();
  EXPECT_EQ(syncs.size(), 6u);
  EXPECT_EQ(syncs.back(), At(2026, 1, 1, 5, 0));
}

TEST(SchedulerTest, AFiringMissedWhileDownRunsOnceIfYoungerThanAPeriod) {
  auto local = MakeLocalCoordinator();
  ASSERT_TRUE(local->SetLastFiring("backup", At(2026, 1, 1, 2, 0)).ok());
  std::vector<int64_t> runs;
  auto make = [&](FakeClock& clock) {
    std::vector<ScheduledJob> jobs;
    jobs.push_back(
        {"backup", *CronExpr::Parse("0 2 * * *"), [&](int64_t f) { runs.push_back(f); }});
    return Scheduler(std::move(jobs), TimeZone::Utc(), clock, *local, [](const std::string&) {});
  };
  // Down from Jan 1 03:00 until Jan 2 05:00: the Jan 2 02:00 firing is 3 h old -> runs.
  FakeClock clock(Tp(At(2026, 1, 2, 5, 0)));
  auto s = make(clock);
  s.CatchUp();
  EXPECT_EQ(runs, std::vector<int64_t>{At(2026, 1, 2, 2, 0)});
  // Down for days: the latest missed firing is still younger than a day -> once, not 5 times.
  runs.clear();
  ASSERT_TRUE(local->SetLastFiring("backup", At(2026, 1, 2, 2, 0)).ok());
  FakeClock later(Tp(At(2026, 1, 7, 1, 0)));
  auto s2 = make(later);
  s2.CatchUp();
  EXPECT_EQ(runs, std::vector<int64_t>{At(2026, 1, 6, 2, 0)});
  // Nothing missed: nothing runs.
  runs.clear();
  FakeClock same(Tp(At(2026, 1, 6, 3, 0)));
  auto s3 = make(same);
  s3.CatchUp();
  EXPECT_TRUE(runs.empty());
}

TEST(SchedulerTest, RunSleepsOnTheInjectedClockAndStops) {
  FakeClock clock(Tp(At(2026, 1, 1, 0, 0) + 10));
  auto local = MakeLocalCoordinator();
  std::atomic<bool> stop{false};
  int runs = 0;
  std::vector<ScheduledJob> jobs;
  jobs.push_back({"sync", *CronExpr::Parse("*/30 * * * *"), [&](int64_t) {
                    if (++runs == 3) stop = true;
                  }});
  Scheduler s(std::move(jobs), TimeZone::Utc(), clock, *local, [](const std::string&) {});
  s.Run(stop);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(clock.Now(), Tp(At(2026, 1, 1, 1, 30)));  // woke at 00:30, 01:00, 01:30
}

}  // namespace
}  // namespace di
