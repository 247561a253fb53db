// WorkerPool (core/worker_pool.h): tasks from many threads at once all run, on no more threads
// than its cap, and Shutdown runs what is queued before it joins. Under ThreadSanitizer
// (make test-tsan) these are the pool's own race checks.
#include "core/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace di {
namespace {

TEST(WorkerPool, TasksSubmittedFromManyThreadsAllRunOnAtMostItsThreads) {
  WorkerPool pool(3);
  std::atomic<int> running{0}, most{0}, ran{0};
  std::mutex mu;
  std::set<std::thread::id> workers;
  auto task = [&] {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    {
      std::lock_guard lock(mu);
      workers.insert(std::this_thread::get_id());
    }
    ++ran;
    --running;
  };
  std::vector<std::thread> submitters;
  for (int s = 0; s < 4; ++s)
    submitters.emplace_back([&] {
      for (int i = 0; i < 200; ++i) EXPECT_TRUE(pool.Submit(task));
    });
  for (auto& t : submitters) t.join();
  EXPECT_LE(pool.threads(), 3u);
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 800);
  EXPECT_LE(most.load(), 3);
  EXPECT_LE(workers.size(), 3u);
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(WorkerPool, ShutdownRunsTheQueuedTasksThenRefusesMore) {
  WorkerPool pool(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&, released] {
    released.wait();  // the one thread is busy: the next tasks queue behind it
    ++ran;
  }));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  std::thread stopper([&] { pool.Shutdown(); });  // waits for the queue
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran.load(), 11);
  EXPECT_FALSE(pool.Submit([&] { ++ran; }));
  EXPECT_EQ(ran.load(), 11);
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace di
