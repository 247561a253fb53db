// Jobs: the API's background work (migrate, backup, sync, restore), each on its own thread,
// with its state, progress per table, errors and report. One migration at a time. Job
// records stay in memory for the life of the process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace di {

// What a job's work sees: its stop flag and where it reports progress.
struct JobContext {
  std::string id;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const std::string& task, int64_t rows)> progress;
  std::function<void(const std::string& line)> log;
};

// A job's end: state succeeded | partial | failed | stopped, and what to show.
struct JobResult {
  std::string state;
  std::string run_id;
  std::string report_key;
  std::vector<std::string> errors;
  nlohmann::json details;  // per-table results, restore summary...
};

class JobManager {
 public:
  using Work = std::function<JobResult(JobContext&)>;
  JobManager();
  ~JobManager();  // stops and joins every job

  // Starts `work`; AlreadyExists when `exclusive` and a job of the same kind is running.
  Result<std::string> Submit(const std::string& kind, nlohmann::json params, Work work,
                             bool exclusive);
  // The job as JSON; null when unknown.
  nlohmann::json Get(const std::string& id);
  nlohmann::json List();
  // Waits until the job ends (or `timeout` passes); true when it ended.
  bool Wait(const std::string& id, std::chrono::milliseconds timeout);
  // Counts by kind and state, for metrics.
  std::map<std::pair<std::string, std::string>, int> Counts();
  // Asks every job to stop at its next batch boundary and waits for them.
  void Shutdown();
  const std::atomic<bool>& stopping() const { return stop_; }

 private:
  struct Job {
    std::string id, kind, state = "queued";
    nlohmann::json params;
    std::string created_at, started_at, finished_at;
    std::map<std::string, int64_t> progress;
    std::vector<std::string> log_tail;  // the last lines it logged
    JobResult result;
  };
  nlohmann::json ToJson(const Job& j) const;

  std::mutex mu_;
  std::condition_variable done_;
  std::map<std::string, Job> jobs_;
  std::vector<std::string> order_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  uint64_t counter_ = 0;
};

}  // namespace di
