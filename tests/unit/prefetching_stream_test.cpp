// PrefetchingStream (sources/prefetching_stream.h): the inner stream's batches in order,
// read ahead at most `depth`, confirms told to the source by the reader and by Close, a read
// error after the batches before it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "sources/prefetching_stream.h"

namespace di {
namespace {

using std::chrono::milliseconds;

// A scripted inner stream: batch i has i+1 as its resume place, every third ends inside a
// transaction, every fifth is empty; after `fail_after` batches, Next fails.
class Script : public ChangeStream {
 public:
  explicit Script(int fail_after = 1 << 30) : fail_after_(fail_after) {}
  Status Next(StreamBatch* batch, size_t, milliseconds) override {
    batch->clear();
    const int i = reads++;
    if (i >= fail_after_) return Unavailable("the connection dropped");
    if (i % 5 != 4) batch->changes.resize(static_cast<size_t>(i % 7 + 1));
    batch->resume = std::to_string(i + 1);
    batch->mid_transaction = i % 3 == 2;
    return Status::Ok();
  }
  Status Confirm(const std::string& position) override {
    std::lock_guard lock(mu);
    confirms.push_back(position);
    if (fail_confirm) return Unavailable("the server went away");
    return Status::Ok();
  }
  std::string Confirmed() const override { return "0"; }
  int64_t LagBytes() const override { return 0; }
  std::string where() const override { return "script"; }

  std::atomic<int> reads{0};
  std::mutex mu;
  std::vector<std::string> confirms;
  std::atomic<bool> fail_confirm{false};

 private:
  const int fail_after_;
};

TEST(PrefetchingStream, GivesTheInnerBatchesInOrderAndReadsAtMostDepthAhead) {
  auto owned = std::make_unique<Script>();
  Script* inner = owned.get();
  PrefetchingStream stream(std::move(owned), 2);
  EXPECT_EQ(stream.where(), "script");
  EXPECT_EQ(stream.Confirmed(), "0");
  StreamBatch b;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(stream.Next(&b, 100, milliseconds(10)).ok());
    EXPECT_EQ(b.resume, std::to_string(i + 1));
    EXPECT_EQ(b.changes.size(), i % 5 == 4 ? 0u : static_cast<size_t>(i % 7 + 1)) << i;
    EXPECT_EQ(b.mid_transaction, i % 3 == 2) << i;
  }
  // The reader fills its two places and waits: never more than 2 read beyond the 40 taken.
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_LE(inner->reads.load(), 42);
  EXPECT_GE(inner->reads.load(), 40);
}

// A stream over a new Script (`inner`), its first batch taken.
struct Started {
  explicit Started(size_t depth) {
    auto owned = std::make_unique<Script>();
    inner = owned.get();
    stream = std::make_unique<PrefetchingStream>(std::move(owned), depth);
    first = stream->Next(&b, 100, milliseconds(10));
  }
  Script* inner;
  std::unique_ptr<PrefetchingStream> stream;
  StreamBatch b;
  Status first;
};

TEST(PrefetchingStream, ConfirmsReachTheSourceAndCloseTellsTheLastOne) {
  Started started(1);
  ASSERT_TRUE(started.first.ok());
  Script* inner = started.inner;
  PrefetchingStream& stream = *started.stream;
  StreamBatch& b = started.b;
  ASSERT_TRUE(stream.Confirm("1").ok());
  EXPECT_EQ(stream.Confirmed(), "1");
  // The reader tells the source before it reads on.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream.Next(&b, 100, milliseconds(10)).ok());
  {
    std::lock_guard lock(inner->mu);
    ASSERT_FALSE(inner->confirms.empty());
    EXPECT_EQ(inner->confirms.front(), "1");
  }
  ASSERT_TRUE(stream.Confirm("4").ok());
  ASSERT_TRUE(stream.Close().ok());
  {
    std::lock_guard lock(inner->mu);
    EXPECT_EQ(inner->confirms.back(), "4");  // told by Close at the latest
  }
  EXPECT_EQ(stream.Confirmed(), "4");
  EXPECT_FALSE(stream.Next(&b, 100, milliseconds(10)).ok());  // read after it was closed
}

TEST(PrefetchingStream, AReadErrorComesAfterTheBatchesReadBeforeIt) {
  PrefetchingStream stream(std::make_unique<Script>(3), 4);
  StreamBatch b;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stream.Next(&b, 100, milliseconds(10)).ok()) << i;
    EXPECT_EQ(b.resume, std::to_string(i + 1));
  }
  Status s = stream.Next(&b, 100, milliseconds(10));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "the connection dropped");
  EXPECT_TRUE(b.changes.empty());
  // Again: the same error, not a hang.
  EXPECT_EQ(stream.Next(&b, 100, milliseconds(10)).code(), StatusCode::kUnavailable);
}

TEST(PrefetchingStream, ACloseWhoseConfirmFailsSaysSo) {
  Started started(2);
  ASSERT_TRUE(started.first.ok());
  started.inner->fail_confirm = true;
  ASSERT_TRUE(started.stream->Confirm("1").ok());
  Status s = started.stream->Close();
  // Either the reader told it (and stopped on the failure) or Close did: never OK.
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(PrefetchingStream, DestroyedWhileTheReaderWaitsItStops) {
  Started started(1);
  ASSERT_TRUE(started.first.ok());
  started.stream.reset();  // joins the reader, which waits for room
  SUCCEED();
}

}  // namespace
}  // namespace di
