// Clock: the one way logic reads time or waits, so tests run on a fake clock without sleeps.
// SystemClock() is thread-safe; a fake is as thread-safe as its test makes it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace di {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() = 0;
  virtual void SleepFor(std::chrono::milliseconds d) = 0;
};

Clock& SystemClock();

// Waits `d` through `clock`, in naps of at most 100 ms (timed by the steady clock), ending early
// once `stopped()` is true: false when it did.
bool SleepUnless(Clock& clock, std::chrono::milliseconds d, const std::function<bool()>& stopped);

// A clock that moves only when told to; SleepFor advances it at once and records the wait.
class FakeClock : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start) : now_(start) {}
  std::chrono::system_clock::time_point Now() override { return now_; }
  void SleepFor(std::chrono::milliseconds d) override {
    now_ += d;
    slept_ += d;
  }
  void Advance(std::chrono::milliseconds d) { now_ += d; }
  std::chrono::milliseconds slept() const { return slept_; }

 private:
  std::chrono::system_clock::time_point now_;
  std::chrono::milliseconds slept_{0};
};

}  // namespace di
