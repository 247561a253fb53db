#include "app/job_progress.h"

#include <unistd.h>

#include <cstdlib>

#include "core/clock.h"
#include "core/log.h"

namespace di {

JobProgress::JobProgress(const Config& config, const std::string& job)
    : lines_(config.log.progress != ProgressMode::kOff) {
  if (!UseProgressDisplay(config.log.progress, ::isatty(STDERR_FILENO) == 1, std::getenv("TERM")))
    return;
  const char* no_color = std::getenv("NO_COLOR");
  ProgressDisplay::Options o;
  o.job = job;
  o.color = no_color == nullptr || *no_color == '\0';
  terminal_ = StderrTerminal();
  display_ = std::make_unique<ProgressDisplay>(*terminal_, SystemClock(), o);
  display_->Start();
  ProgressDisplay* d = display_.get();
  RouteStderr([d](std::string_view line) { d->Print(line); });
}

JobProgress::~JobProgress() {
  End();
}

RunHooks JobProgress::With(RunHooks hooks) const {
  hooks.display = display_.get();
  hooks.progress_lines = lines_;
  return hooks;
}

void JobProgress::End() {
  if (!display_) return;
  display_->Stop();  // log lines from here on are written below its summary
  RouteStderr(nullptr);
}

}  // namespace di
