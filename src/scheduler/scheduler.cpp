#include "scheduler/scheduler.h"

#include <hiredis/hiredis.h>

#include <map>
#include <mutex>

#include "core/strings.h"
#include "core/value.h"

namespace di {
namespace {

std::string Iso(int64_t utc_seconds) {
  int64_t days = utc_seconds / 86400 - (utc_seconds % 86400 < 0);
  int64_t secs = utc_seconds - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:00Z", static_cast<long long>(y), m,
                d, static_cast<long long>(secs / 3600), static_cast<long long>(secs % 3600 / 60));
  return buf;
}

class LocalCoordinator : public Coordinator {
 public:
  Result<bool> Claim(const std::string&, int64_t, std::chrono::seconds) override { return true; }
  Result<std::optional<int64_t>> LastFiring(const std::string& job) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_.find(job);
    return it == last_.end() ? std::optional<int64_t>() : std::optional<int64_t>(it->second);
  }
  Status SetLastFiring(const std::string& job, int64_t firing) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_[job] = firing;
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> last_;
};

class RedisCoordinator : public Coordinator {
 public:
  RedisCoordinator(redisContext* c, std::string prefix, std::string where)
      : c_(c), prefix_(std::move(prefix)), where_(std::move(where)) {}
  ~RedisCoordinator() override { redisFree(c_); }

  Result<bool> Claim(const std::string& job, int64_t firing, std::chrono::seconds ttl) override {
    std::string key = prefix_ + "lock:" + job + ":" + std::to_string(firing);
    std::string secs = std::to_string(std::max<int64_t>(1, ttl.count()));
    ASSIGN_OR_RETURN(auto reply, Command({"SET", key, "1", "NX", "EX", secs}));
    bool won = reply->type == REDIS_REPLY_STATUS;  // "OK"; nil when another instance has it
    freeReplyObject(reply);
    return won;
  }
  Result<std::optional<int64_t>> LastFiring(const std::string& job) override {
    ASSIGN_OR_RETURN(auto reply, Command({"GET", prefix_ + "last:" + job}));
    std::optional<int64_t> out;
    if (reply->type == REDIS_REPLY_STRING) out = ParseInt64(std::string(reply->str, reply->len));
    freeReplyObject(reply);
    return out;
  }
  Status SetLastFiring(const std::string& job, int64_t firing) override {
    // Only forward: an instance that ran an older firing late must not move it back.
    static const char* kScript =
        "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
        "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end return 1";
    ASSIGN_OR_RETURN(auto reply, Command({"EVAL", kScript, "1", prefix_ + "last:" + job,
                                          std::to_string(firing)}));
    freeReplyObject(reply);
    return Status::Ok();
  }

 private:
  Result<redisReply*> Command(const std::vector<std::string>& args) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!reply) return Unavailable("Redis " + where_ + ": " + (c_->err ? c_->errstr : "no reply"));
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string e(reply->str, reply->len);
      freeReplyObject(reply);
      return Unavailable("Redis " + where_ + ": " + e);
    }
    return reply;
  }

  std::mutex mu_;
  redisContext* c_;
  std::string prefix_, where_;
};

}  // namespace

std::unique_ptr<Coordinator> MakeLocalCoordinator() {
  return std::make_unique<LocalCoordinator>();
}

Result<std::unique_ptr<Coordinator>> MakeRedisCoordinator(const std::string& url,
                                                          const std::string& prefix) {
  // redis://[user][:password@]host[:port][/db]
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  std::string password, host = "localhost";
  int port = 6379, db = 0;
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    password = colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    if (auto n = ParseInt64(rest.substr(slash + 1)); n) db = static_cast<int>(*n);
    rest = rest.substr(0, slash);
  }
  size_t colon = rest.rfind(':');
  host = rest.substr(0, colon);
  if (colon != std::string::npos)
    if (auto n = ParseInt64(rest.substr(colon + 1)); n) port = static_cast<int>(*n);
  std::string where = host + ":" + std::to_string(port);
  timeval timeout{5, 0};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (!c || c->err) {
    std::string e = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return Unavailable("REDIS_URL: cannot connect to Redis at " + where + ": " + e);
  }
  redisSetTimeout(c, timeout);
  auto coordinator = std::make_unique<RedisCoordinator>(c, prefix, where);
  auto run = [&](std::vector<const char*> argv) -> Status {
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), nullptr));
    if (!r) return Unavailable("REDIS_URL: Redis at " + where + " does not answer");
    bool bad = r->type == REDIS_REPLY_ERROR;
    std::string e = bad ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    return bad ? Unauthenticated("REDIS_URL: Redis at " + where + ": " + e) : Status::Ok();
  };
  if (!password.empty()) RETURN_IF_ERROR(run({"AUTH", password.c_str()}));
  if (db) RETURN_IF_ERROR(run({"SELECT", std::to_string(db).c_str()}));
  RETURN_IF_ERROR(run({"PING"}));
  return std::unique_ptr<Coordinator>(std::move(coordinator));
}

Scheduler::Scheduler(std::vector<ScheduledJob> jobs, std::shared_ptr<const TimeZone> tz,
                     Clock& clock, Coordinator& coordinator,
                     std::function<void(const std::string&)> log)
    : tz_(std::move(tz)), clock_(clock), coordinator_(coordinator), log_(std::move(log)) {
  for (auto& j : jobs) jobs_.push_back({std::move(j), std::nullopt});
}

int64_t Scheduler::NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

void Scheduler::Fire(State& s, int64_t firing, const char* why) {
  // The claim outlives the run's start by one period (at least a minute), so a slower
  // instance reaching the same firing later still finds it taken.
  auto after = s.job.cron.NextAfter(firing, *tz_);
  std::chrono::seconds ttl(after ? std::max<int64_t>(60, *after - firing) : 86400);
  auto won = coordinator_.Claim(s.job.name, firing, ttl);
  if (!won.ok()) {
    log_("[scheduler] " + s.job.name + " at " + Iso(firing) + ": not run, " +
         won.status().message());
    return;
  }
  if (!*won) {
    log_("[scheduler] " + s.job.name + " at " + Iso(firing) + ": run by another instance");
    return;
  }
  log_("[scheduler] " + s.job.name + " at " + Iso(firing) + ": starting (" + why + ")");
  Status st = coordinator_.SetLastFiring(s.job.name, firing);
  if (!st.ok()) log_("[scheduler] " + s.job.name + ": " + st.message());
  s.job.run(firing);
}

void Scheduler::CatchUp() {
  int64_t now = NowSeconds();
  for (auto& s : jobs_) {
    auto last = coordinator_.LastFiring(s.job.name);
    if (!last.ok() || !*last) continue;  // never ran (or unknown): nothing to catch up
    // The latest firing after the last run that is already past.
    std::optional<int64_t> missed;
    for (auto f = s.job.cron.NextAfter(**last, *tz_); f && *f <= now;
         f = s.job.cron.NextAfter(*f, *tz_))
      missed = f;
    if (!missed) continue;
    auto following = s.job.cron.NextAfter(*missed, *tz_);
    int64_t period = following ? *following - *missed : 0;
    if (now - *missed < period)
      Fire(s, *missed, "missed while down");
    else
      log_("[scheduler] " + s.job.name + " at " + Iso(*missed) +
           ": missed while down, older than one period; skipped");
  }
}

std::optional<int64_t> Scheduler::RunDue() {
  int64_t now = NowSeconds();
  std::optional<int64_t> soonest;
  for (auto& s : jobs_) {
    if (!s.next) s.next = s.job.cron.NextAfter(now - 1, *tz_);  // a firing at `now` counts
    // Every firing due by now runs at most once: when several were passed (a long job), the
    // latest of them runs.
    std::optional<int64_t> due;
    while (s.next && *s.next <= now) {
      due = s.next;
      s.next = s.job.cron.NextAfter(*s.next, *tz_);
    }
    if (due) Fire(s, *due, "scheduled");
    if (s.next && (!soonest || *s.next < *soonest)) soonest = s.next;
  }
  return soonest;
}

void Scheduler::Run(const std::atomic<bool>& stop) {
  CatchUp();
  for (const auto& s : jobs_) {
    auto n = s.job.cron.NextAfter(NowSeconds(), *tz_);
    log_("[scheduler] " + s.job.name + " '" + s.job.cron.text() + "' (" + tz_->name() +
         "): next at " + (n ? Iso(*n) : std::string("never")));
  }
  while (!stop.load()) {
    auto next = RunDue();
    if (stop.load()) break;
    int64_t wait = next ? *next - NowSeconds() : 60;
    if (wait > 0) clock_.SleepFor(std::chrono::milliseconds(1000 * std::min<int64_t>(wait, 1)));
  }
}

}  // namespace di
