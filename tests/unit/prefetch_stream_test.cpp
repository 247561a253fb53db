#include "sources/prefetch_stream.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace di {
namespace {

// A source of batches "1".."n" (each with one change and its number as the resume place)
// that records what was confirmed to it, and fails after `fail_after` batches when set.
class Numbered : public ChangeStream {
 public:
  struct Log {
    std::mutex mu;
    std::vector<std::string> confirmed;
    int reads = 0;
  };
  Numbered(int n, Log* log, int fail_after = -1) : n_(n), fail_after_(fail_after), log_(log) {}
  Status Next(StreamBatch* batch, size_t, std::chrono::milliseconds wait) override {
    batch->clear();
    std::lock_guard<std::mutex> lock(log_->mu);
    if (fail_after_ >= 0 && log_->reads >= fail_after_) return Unavailable("connection lost");
    if (log_->reads >= n_) {
      std::this_thread::sleep_for(wait);
      return Status::Ok();
    }
    ++log_->reads;
    batch->changes.emplace_back();
    batch->resume = std::to_string(log_->reads);
    return Status::Ok();
  }
  Status Confirm(const std::string& position) override {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->confirmed.push_back(position);
    return Status::Ok();
  }
  std::string Confirmed() const override { return "0"; }
  int64_t LagBytes() const override { return 0; }
  std::string where() const override { return "numbers"; }

 private:
  int n_, fail_after_;
  Log* log_;
};

TEST(PrefetchedStream, GivesEveryBatchInOrderAndConfirmsOnlyWhatTheCallerConfirmed) {
  Numbered::Log log;
  {
    auto s = Prefetched(std::make_unique<Numbered>(50, &log), 10, std::chrono::milliseconds(5));
    EXPECT_EQ(s->where(), "numbers");
    EXPECT_EQ(s->Confirmed(), "0");
    StreamBatch b;
    for (int i = 1; i <= 50; ++i) {
      ASSERT_TRUE(s->Next(&b, 10, std::chrono::seconds(5)).ok());
      ASSERT_EQ(b.resume, std::to_string(i));
      ASSERT_EQ(b.changes.size(), 1u);
      if (i % 10 == 0) {
        ASSERT_TRUE(s->Confirm(b.resume).ok());
      }
    }
    ASSERT_TRUE(s->Next(&b, 10, std::chrono::milliseconds(20)).ok());
    EXPECT_TRUE(b.changes.empty() && b.resume.empty());  // idle: nothing
    EXPECT_EQ(s->Confirmed(), "50");
    ASSERT_TRUE(s->Confirm("50").ok());
  }
  // Each confirmed place reached the source once, in order, the last one at the latest when
  // the stream closed; none the caller did not confirm.
  ASSERT_FALSE(log.confirmed.empty());
  for (const auto& c : log.confirmed) EXPECT_EQ(std::stoi(c) % 10, 0) << c;
  EXPECT_EQ(log.confirmed.back(), "50");
  for (size_t i = 1; i < log.confirmed.size(); ++i)
    EXPECT_LT(std::stoi(log.confirmed[i - 1]), std::stoi(log.confirmed[i]));
}

TEST(PrefetchedStream, ReadsAheadAtMostItsDepth) {
  Numbered::Log log;
  auto s = Prefetched(std::make_unique<Numbered>(100, &log), 10, std::chrono::milliseconds(5), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_LE(log.reads, 4);  // 3 waiting, and one being read
  }
}

TEST(PrefetchedStream, AFailureIsGivenAndNothingAfterTheConfirmedPlaceIsKept) {
  Numbered::Log log;
  auto s = Prefetched(std::make_unique<Numbered>(100, &log, 4), 10, std::chrono::milliseconds(5));
  StreamBatch b;
  Status st;
  int got = 0;
  for (int i = 0; i < 10 && st.ok(); ++i) {
    st = s->Next(&b, 10, std::chrono::seconds(5));
    if (st.ok() && !b.changes.empty()) ++got;
  }
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("connection lost"), std::string::npos) << st.message();
  EXPECT_LE(got, 4);
  EXPECT_FALSE(s->Confirm("3").ok());  // the stream is broken: opened again by the caller
}

}  // namespace
}  // namespace di
