// WorkerPool: runs tasks on at most `max_threads` threads, started as tasks arrive and no
// thread is free, and kept until Shutdown. Thread-safe. A task that throws ends the process
// (as any uncaught exception on a thread); tasks catch what they expect.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace di {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` destroyed unrun) after Shutdown. When no thread can be
  // started (the system is out of them) the task waits for a running one, or, with none
  // running, Submit throws std::system_error.
  bool Submit(std::function<void()> task);
  // Runs the tasks already queued, then joins the threads. Idempotent.
  void Shutdown();
  size_t threads();

 private:
  void Work();
  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

}  // namespace di
