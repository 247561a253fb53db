#include "core/clock.h"

#include <algorithm>
#include <thread>

namespace di {
namespace {
class RealClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  void SleepFor(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};
}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

bool SleepUnless(Clock& clock, std::chrono::milliseconds d, const std::function<bool()>& stopped) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stopped()) return false;
    clock.SleepFor(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(
                                            until - std::chrono::steady_clock::now())));
  }
  return !stopped();
}

}  // namespace di
