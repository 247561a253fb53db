// JobProgress: how the CLI shows one long job's progress (backup, migrate, sync, restore),
// as PROGRESS, stderr and TERM choose (docs/configuration.md, PROGRESS): the live display
// on a terminal (core/progress_display.h), every log line meant for stderr routed above it
// while it lasts; otherwise the throttled progress lines in the log, or none (off). NO_COLOR
// takes the colour out of the display. The API and the scheduler never use it.
// Made, used and ended on the main thread; the display it hands out is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/progress_display.h"
#include "pipeline/run.h"

namespace di {

class JobProgress {
 public:
  // `job` names the summary ("backup: 9 tables, ...").
  JobProgress(const Config& config, const std::string& job);
  ~JobProgress();  // End()
  JobProgress(const JobProgress&) = delete;
  JobProgress& operator=(const JobProgress&) = delete;

  // `hooks` with the display, or with the progress lines on (log) or off.
  RunHooks With(RunHooks hooks) const;
  // Null when there is no display.
  ProgressDisplay* display() const { return display_.get(); }
  // The display's last frame and its summary, then stderr as before. Idempotent.
  void End();

 private:
  bool lines_;
  std::unique_ptr<Terminal> terminal_;
  std::unique_ptr<ProgressDisplay> display_;
};

}  // namespace di
