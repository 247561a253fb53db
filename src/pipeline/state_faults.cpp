#include "pipeline/state_faults.h"

#include <csignal>
#include <cstdlib>

#include <unistd.h>

namespace di {

CheckpointFaults CheckpointFaultsFrom(const char* crash_after, const char* term_after,
                                      const char* pause_ms) {
  CheckpointFaults f;
  if (term_after) {
    f.after = std::strtol(term_after, nullptr, 10);
    f.action = CheckpointFaults::Action::kTerm;
  }
  if (crash_after) {
    f.after = std::strtol(crash_after, nullptr, 10);
    f.action = CheckpointFaults::Action::kKill;
  }
  if (pause_ms) f.pause = std::chrono::milliseconds(std::strtol(pause_ms, nullptr, 10));
  return f;
}

Status FaultingStateStore::Gone() const {
  return Unavailable("state table: gone (a fault injected after checkpoint " +
                     std::to_string(faults_.after) + ")");
}

Status FaultingStateStore::PutWatermark(Engine engine, const std::string& table, const Position& p,
                                        const std::string& run_id, const std::string& target) {
  if (failing_) return Gone();
  return inner_.PutWatermark(engine, table, p, run_id, target);
}

Status FaultingStateStore::PutRun(const std::string& mode, const std::string& run_id,
                                  const std::string& state) {
  if (failing_) return Gone();
  return inner_.PutRun(mode, run_id, state);
}

Status FaultingStateStore::PutSnapshot(Engine engine, const std::string& table,
                                       const nlohmann::json& record) {
  if (failing_) return Gone();
  return inner_.PutSnapshot(engine, table, record);
}

Status FaultingStateStore::PutTask(const std::string& run_id, const std::string& task,
                                   const nlohmann::json& record) {
  if (failing_) return Gone();
  RETURN_IF_ERROR(inner_.PutTask(run_id, task, record));
  const bool checkpoint =
      record.is_object() && record.value("state", "") == "running" && !record.value("ended", false);
  if (!checkpoint) return Status::Ok();
  const long n = ++seen_;
  if (faults_.after > 0 && n >= faults_.after) {
    switch (faults_.action) {
      case CheckpointFaults::Action::kKill:
        std::raise(SIGKILL);
        break;
      case CheckpointFaults::Action::kTerm:
        // To the process, as a user's kill would send it (raise's goes to this thread).
        if (n == faults_.after) ::kill(::getpid(), SIGTERM);
        break;
      case CheckpointFaults::Action::kFail:
        failing_ = true;
        break;
    }
  }
  if (faults_.pause.count() > 0) clock_.SleepFor(faults_.pause);
  return Status::Ok();
}

}  // namespace di
