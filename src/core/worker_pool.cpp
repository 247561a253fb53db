#include "core/worker_pool.h"

#include <system_error>

namespace di {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}

WorkerPool::~WorkerPool() {
  Shutdown();
}

bool WorkerPool::Submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  if (stop_) return false;
  queue_.push_back(std::move(task));
  if (queue_.size() > idle_ && threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error&) {
      // Out of threads: the running ones take the task in turn; with none, the caller hears.
      if (threads_.empty()) {
        queue_.pop_back();
        throw;
      }
    }
  }
  wake_.notify_one();
  return true;
}

void WorkerPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping, and nothing left to run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // what it holds goes before the next wait
    lock.lock();
  }
}

void WorkerPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& t : threads) t.join();
}

size_t WorkerPool::threads() {
  std::lock_guard lock(mu_);
  return threads_.size();
}

}  // namespace di
