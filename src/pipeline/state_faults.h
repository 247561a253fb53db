// FaultingStateStore: a StateStore that injects faults at a run's checkpoints, so tests stop a
// run at a known point instead of racing a timer against it (like leveldb's
// FaultInjectionTestEnv). A checkpoint is a task record stored while its read goes on
// (state "running", not "ended"). Test-only: app/ puts one in front of the real store only when
// the crash-test variables are set (docs/configuration.md, "Read outside the configuration").
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.h"
#include "pipeline/state.h"

namespace di {

struct CheckpointFaults {
  enum class Action {
    kKill,  // the process SIGKILLs itself right after the checkpoint is stored
    kTerm,  // the process is sent SIGTERM once, right after the checkpoint is stored (as a
            // user's kill would: the run stops at its next batch boundary)
    kFail,  // the checkpoint is stored, then every later write fails (the store is gone)
  };
  long after = 0;  // the checkpoint that faults (1: the first); 0: none
  Action action = Action::kKill;
  std::chrono::milliseconds pause{0};  // waited after every checkpoint
  bool any() const { return after > 0 || pause.count() > 0; }
};

// From DI_CRASH_AFTER_CHECKPOINTS=N (kill after the N-th checkpoint),
// DI_SIGTERM_AFTER_CHECKPOINTS=N (SIGTERM after the N-th; the crash wins when both are set)
// and DI_PAUSE_AFTER_CHECKPOINT_MS=M of `getenv` (app/ passes the process environment).
CheckpointFaults CheckpointFaultsFrom(const char* crash_after, const char* term_after,
                                      const char* pause_ms);

class FaultingStateStore : public StateStore {
 public:
  FaultingStateStore(StateStore& inner, CheckpointFaults faults, Clock& clock = SystemClock())
      : inner_(inner), faults_(faults), clock_(clock) {}
  Result<std::optional<Position>> GetWatermark(Engine engine, const std::string& table,
                                               const std::string& target = "") override {
    return inner_.GetWatermark(engine, table, target);
  }
  Status PutWatermark(Engine engine, const std::string& table, const Position& p,
                      const std::string& run_id, const std::string& target = "") override;
  Result<nlohmann::json> GetRun(const std::string& mode) override { return inner_.GetRun(mode); }
  Status PutRun(const std::string& mode, const std::string& run_id,
                const std::string& state) override;
  Result<nlohmann::json> GetSnapshot(Engine engine, const std::string& table) override {
    return inner_.GetSnapshot(engine, table);
  }
  Status PutSnapshot(Engine engine, const std::string& table,
                     const nlohmann::json& record) override;
  Result<nlohmann::json> GetTask(const std::string& run_id, const std::string& task) override {
    return inner_.GetTask(run_id, task);
  }
  Status PutTask(const std::string& run_id, const std::string& task,
                 const nlohmann::json& record) override;
  Status Check() override { return inner_.Check(); }

  long checkpoints() const { return seen_.load(); }
  bool failing() const { return failing_.load(); }

 private:
  Status Gone() const;
  StateStore& inner_;
  const CheckpointFaults faults_;
  Clock& clock_;
  std::atomic<long> seen_{0};
  std::atomic<bool> failing_{false};
};

}  // namespace di
