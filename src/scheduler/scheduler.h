// Scheduler: runs jobs at their cron firings (BACKUP_SCHEDULE, SYNC_SCHEDULE) on the wall
// clock of SCHEDULE_TZ. Several instances may run it: with a Coordinator on Redis each
// firing runs once (a lock per firing, with expiry), and a firing missed while every
// instance was down runs once at start when it is younger than one period. Time comes
// from a Clock, so tests drive it without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/time_util.h"
#include "scheduler/cron.h"

namespace di {

// Who runs a firing, and when each job last fired (shared by the instances).
class Coordinator {
 public:
  virtual ~Coordinator() = default;
  // True for exactly one caller per (job, firing); the claim expires after `ttl`.
  virtual Result<bool> Claim(const std::string& job, int64_t firing, std::chrono::seconds ttl) = 0;
  virtual Result<std::optional<int64_t>> LastFiring(const std::string& job) = 0;
  virtual Status SetLastFiring(const std::string& job, int64_t firing) = 0;
};

// One process, no sharing: every claim succeeds; last firings kept in memory.
std::unique_ptr<Coordinator> MakeLocalCoordinator();
// REDIS_URL (redis://[:password@]host:port[/db]); keys under `prefix`.
Result<std::unique_ptr<Coordinator>> MakeRedisCoordinator(const std::string& url,
                                                          const std::string& prefix = "di:");

struct ScheduledJob {
  std::string name;  // "backup", "sync"
  CronExpr cron;
  std::function<void(int64_t firing)> run;  // called on the scheduler's thread
};

class Scheduler {
 public:
  Scheduler(std::vector<ScheduledJob> jobs, std::shared_ptr<const TimeZone> tz, Clock& clock,
            Coordinator& coordinator, std::function<void(const std::string&)> log);
  // Start-up: a firing missed while down and younger than one period runs once now.
  void CatchUp();
  // Runs every firing due at the clock's now (each once, across instances); returns when the
  // next firing is due (UTC seconds; nullopt when no job will ever fire).
  std::optional<int64_t> RunDue();
  // CatchUp, then RunDue and sleep until the next firing, until `stop` is set (checked
  // every second).
  void Run(const std::atomic<bool>& stop);

 private:
  struct State {
    ScheduledJob job;
    std::optional<int64_t> next;  // the next firing not yet run
  };
  void Fire(State& s, int64_t firing, const char* why);
  int64_t NowSeconds();

  std::vector<State> jobs_;
  std::shared_ptr<const TimeZone> tz_;
  Clock& clock_;
  Coordinator& coordinator_;
  std::function<void(const std::string&)> log_;
};

}  // namespace di
