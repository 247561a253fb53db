#include "api/jobs.h"

#include "core/json_encode.h"

namespace di {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Finished(const std::string& state) {
  return state != "queued" && state != "running";
}

}  // namespace

JobManager::JobManager() = default;

JobManager::~JobManager() {
  Shutdown();
}

Result<std::string> JobManager::Submit(const std::string& kind, nlohmann::json params, Work work,
                                       bool exclusive) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return Aborted("the service is shutting down; no new jobs");
  if (exclusive)
    for (const auto& [id, j] : jobs_)
      if (j.kind == kind && !Finished(j.state))
        return AlreadyExists("a " + kind + " job is already running: " + id);
  std::string id =
      "job-" + std::to_string(++counter_) + "-" + std::to_string(NowMicros() % 1000000);
  Job& j = jobs_[id];
  j.id = id;
  j.kind = kind;
  j.params = std::move(params);
  j.created_at = FormatTimestamp(NowMicros());
  order_.push_back(id);
  threads_.emplace_back([this, id, work = std::move(work)] {
    JobContext ctx;
    ctx.id = id;
    ctx.stop = &stop_;
    ctx.progress = [this, id](const std::string& task, int64_t rows) {
      std::lock_guard<std::mutex> l(mu_);
      jobs_[id].progress[task] = rows;
    };
    ctx.log = [this, id](const std::string& line) {
      std::lock_guard<std::mutex> l(mu_);
      auto& tail = jobs_[id].log_tail;
      tail.push_back(line);
      if (tail.size() > 50) tail.erase(tail.begin());
    };
    {
      std::lock_guard<std::mutex> l(mu_);
      jobs_[id].state = "running";
      jobs_[id].started_at = FormatTimestamp(NowMicros());
    }
    JobResult r;
    try {
      r = work(ctx);
    } catch (const std::exception& e) {
      r.state = "failed";
      r.errors.push_back(std::string("internal error: ") + e.what());
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      Job& job = jobs_[id];
      job.result = std::move(r);
      job.state = job.result.state.empty() ? "failed" : job.result.state;
      job.finished_at = FormatTimestamp(NowMicros());
    }
    done_.notify_all();
  });
  return id;
}

namespace {
nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
}  // namespace

nlohmann::json JobManager::ToJson(const Job& j) const {
  nlohmann::json progress = nlohmann::json::object();
  for (const auto& [task, rows] : j.progress) progress[task] = {{"rows", rows}};
  return {{"id", j.id},
          {"kind", j.kind},
          {"state", j.state},
          {"params", j.params},
          {"created_at", j.created_at},
          {"started_at", OrNull(j.started_at)},
          {"finished_at", OrNull(j.finished_at)},
          {"progress", progress},
          {"run_id", OrNull(j.result.run_id)},
          {"report_key", OrNull(j.result.report_key)},
          {"errors", j.result.errors},
          {"result", j.result.details.is_null() ? nlohmann::json::object() : j.result.details},
          {"log", j.log_tail}};
}

nlohmann::json JobManager::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nlohmann::json() : ToJson(it->second);
}

nlohmann::json JobManager::List() {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    nlohmann::json j = ToJson(jobs_[*it]);
    j.erase("log");
    out.push_back(j);
  }
  return out;
}

bool JobManager::Wait(const std::string& id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return done_.wait_for(lock, timeout, [&] {
    auto it = jobs_.find(id);
    return it == jobs_.end() || Finished(it->second.state);
  });
}

std::map<std::pair<std::string, std::string>, int> JobManager::Counts() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& [id, j] : jobs_) out[{j.kind, j.state}]++;
  return out;
}

void JobManager::Shutdown() {
  stop_ = true;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads)
    if (t.joinable()) t.join();
}

}  // namespace di
