// The fan-out on fakes, without the stack: every sink gets every batch once and in order, a
// slow sink holds the read back with memory bounded, positions are confirmed only once every
// sink has made them durable, a failing sink or reader loses nothing already confirmed, and a
// read resumed from the confirmed position gives every row exactly once.
#include "pipeline/fanout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace di {
namespace {

// A table of `rows` integer keys 1..rows read in key order, `per_batch` a batch, from after
// `after` (0: the start); with `fail_after_rows` > 0 it fails once it has handed out that many
// rows (a dropped connection). Counts the batches alive (held by the fan-out or a sink).
class FakeReader : public ChangeReader {
 public:
  FakeReader(int64_t rows, size_t per_batch, int64_t after = 0, int64_t fail_after_rows = 0)
      : rows_(rows), per_batch_(per_batch), next_(after + 1), fail_after_(fail_after_rows) {}
  Result<bool> Next(ChangeBatch* batch) override {
    *batch = ChangeBatch();
    if (fail_after_ > 0 && handed_ >= fail_after_) return Unavailable("connection dropped");
    for (size_t i = 0; i < per_batch_ && next_ <= rows_; ++i, ++next_, ++handed_)
      batch->rows.push_back({Value(next_)});
    if (batch->rows.empty()) return false;
    batch->last = Position{Null{}, {Value(next_ - 1)}};
    reads_++;
    return true;
  }
  int reads() const { return reads_; }

 private:
  int64_t rows_;
  size_t per_batch_;
  int64_t next_;
  int64_t fail_after_;
  int64_t handed_ = 0;
  std::atomic<int> reads_{0};
};

// Records what it is given. `durable_every`: batches become durable in groups of that many
// (a part upload), all of them at Finish. `fail_at`: Write of that sequence fails. `gate`:
// each Write waits until the test lets it through.
class FakeSink : public Sink {
 public:
  explicit FakeSink(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Status Open(const TableInfo&, const LogPosition& snapshot) override {
    snapshot_ = snapshot.position;
    return Status::Ok();
  }
  Status Write(const ChangeBatch& b) override {
    if (gated) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return allowed > 0; });
      --allowed;
    }
    if (b.sequence == fail_at) return Unavailable("target went away");
    for (const auto& r : b.rows) keys.push_back(r[0].as<int64_t>());
    sequences.push_back(b.sequence);
    writes.fetch_add(1);
    written = b.sequence;
    if (written % durable_every == 0) durable_ = written;
    return Status::Ok();
  }
  uint64_t Durable() const override { return durable_; }
  nlohmann::json Checkpoint() const override { return {{"durable", durable_.load()}}; }
  Status Finish() override {
    finished = true;
    durable_ = written;
    return Status::Ok();
  }
  void Allow(int n) {
    std::lock_guard lock(mu);
    allowed += n;
    cv.notify_all();
  }

  std::string name_, snapshot_;
  uint64_t durable_every = 1, fail_at = 0, written = 0;
  std::atomic<uint64_t> durable_{0};
  bool gated = false, finished = false;
  std::vector<int64_t> keys;
  std::vector<uint64_t> sequences;
  std::atomic<size_t> writes{0};  // sequences.size(), for a look while the sink runs
  std::mutex mu;
  std::condition_variable cv;
  int allowed = 0;
};

const TableInfo kTable{
    Engine::kPostgres, "db", "t", {{"id", "bigint", false, {}, "", ""}}, {"id"}, ""};

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TEST(FanOut, EverySinkGetsEveryBatchOnceInOrderAndTheSnapshot) {
  FakeReader reader(1000, 64);
  FakeSink a("a"), b("b");
  std::vector<uint64_t> confirmed;
  FanOutOptions o;
  o.confirm = [&](const BatchMark& m) {
    const uint64_t seq = m.sequence;
    confirmed.push_back(seq);
    return Status::Ok();
  };
  FanOutOutcome out =
      RunFanOut(reader, kTable, {Engine::kPostgres, "0/16B3748", "", 0}, {&a, &b}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().ToString();
  EXPECT_EQ(out.rows, 1000u);
  EXPECT_EQ(out.batches, 16u);  // 15 of 64 and one of 40
  for (FakeSink* s : {&a, &b}) {
    EXPECT_EQ(s->keys, Range(1, 1000));
    EXPECT_EQ(s->snapshot_, "0/16B3748");
    EXPECT_TRUE(s->finished);
  }
  ASSERT_FALSE(confirmed.empty());
  EXPECT_TRUE(std::is_sorted(confirmed.begin(), confirmed.end()));
  EXPECT_EQ(confirmed.back(), 16u);
  EXPECT_EQ(out.confirmed, 16u);
}

TEST(FanOut, ASlowSinkHoldsTheReadBackWithBoundedMemory) {
  FakeReader reader(100, 1);
  FakeSink fast("fast"), slow("slow");
  slow.gated = true;
  FanOutOptions o;
  o.queue_batches = 2;
  FanOutOutcome out;
  std::thread run([&] { out = RunFanOut(reader, kTable, {}, {&fast, &slow}, o); });
  // The slow sink writes nothing: the read gets at most its queue and one more ahead.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(reader.reads(), 2 + 1 + 1);  // queued, taken by the gated Write, pushing
  EXPECT_LE(fast.writes.load(), 4u);
  slow.Allow(1000);
  run.join();
  ASSERT_TRUE(out.status().ok()) << out.status().ToString();
  EXPECT_EQ(slow.keys, Range(1, 100));
  EXPECT_EQ(fast.keys, Range(1, 100));
}

TEST(FanOut, APositionIsConfirmedOnlyOnceEverySinkMadeItDurable) {
  FakeReader reader(100, 10);
  FakeSink every("every"), parts("parts");
  parts.durable_every = 3;  // durable after batches 3, 6, 9, then at Finish
  std::vector<std::pair<uint64_t, int64_t>> confirmed;  // sequence, last key
  FanOutOptions o;
  o.confirm = [&](const BatchMark& m) {
    const uint64_t seq = m.sequence;
    const std::optional<Position>& last = m.last;
    // Both sinks have it durable (Durable only grows, so a later look is no weaker).
    EXPECT_LE(seq, every.Durable());
    EXPECT_LE(seq, parts.Durable());
    confirmed.emplace_back(seq, last->key.at(0).as<int64_t>());
    return Status::Ok();
  };
  FanOutOutcome out = RunFanOut(reader, kTable, {}, {&every, &parts}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().ToString();
  ASSERT_FALSE(confirmed.empty());
  for (auto [seq, key] : confirmed) {
    EXPECT_EQ(key, static_cast<int64_t>(seq) * 10);  // the position of that very batch
  }
  EXPECT_EQ(confirmed.back().first, 10u);
}

// Each sink's own progress is reported as it moves — its mark (the position a resumed run
// carries it on after) and its checkpoint as of then — even while another holds the
// confirmation back; the last report comes once the sinks are done.
TEST(FanOut, EachSinkReportsItsOwnProgressWithItsCheckpoint) {
  FakeReader reader(100, 10);
  FakeSink every("every"), parts("parts");
  parts.durable_every = 4;  // durable after batches 4 and 8, then at Finish
  std::vector<uint64_t> every_marks, parts_marks;
  int ended = 0;
  FanOutOptions o;
  o.progress = [&](const std::vector<SinkProgress>& p, bool end) -> Status {
    EXPECT_EQ(p.size(), 2u);
    ended += end;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].mark) continue;
      const uint64_t seq = p[i].mark->sequence;
      EXPECT_EQ(p[i].mark->last->key.at(0).as<int64_t>(), static_cast<int64_t>(seq) * 10);
      EXPECT_EQ(p[i].mark->rows, seq * 10);
      EXPECT_EQ(p[i].checkpoint["durable"], seq);  // the sink's own, as of that batch
      auto& marks = i == 0 ? every_marks : parts_marks;
      if (marks.empty() || marks.back() != seq) marks.push_back(seq);
    }
    return Status::Ok();
  };
  ASSERT_TRUE(RunFanOut(reader, kTable, {}, {&every, &parts}, o).status().ok());
  EXPECT_EQ(ended, 1);
  ASSERT_FALSE(every_marks.empty());
  EXPECT_EQ(every_marks.back(), 10u);
  EXPECT_TRUE(std::is_sorted(every_marks.begin(), every_marks.end()));
  for (uint64_t m : parts_marks) EXPECT_TRUE(m % 4 == 0 || m == 10) << m;
  EXPECT_EQ(parts_marks.back(), 10u);
  EXPECT_GE(every_marks.size(), 2u);  // moved while reading, not only at the end
}

TEST(FanOut, AFailingSinkHoldsTheConfirmationAndTheOthersGoOn) {
  FakeReader reader(50, 5);
  FakeSink good("good"), bad("bad");
  bad.fail_at = 4;
  uint64_t confirmed = 0;
  FanOutOptions o;
  o.confirm = [&](const BatchMark& m) {
    const uint64_t seq = m.sequence;
    confirmed = seq;
    return Status::Ok();
  };
  FanOutOutcome out = RunFanOut(reader, kTable, {}, {&good, &bad}, o);
  EXPECT_FALSE(out.status().ok());
  EXPECT_NE(out.status().message().find("bad: target went away"), std::string::npos)
      << out.status().message();
  EXPECT_EQ(good.keys, Range(1, 50));
  EXPECT_EQ(bad.keys, Range(1, 15));
  EXPECT_FALSE(bad.finished);
  EXPECT_EQ(confirmed, 3u);  // the last batch the failed sink made durable
  EXPECT_EQ(out.confirmed, 3u);
  EXPECT_EQ(out.sinks[1].durable, 3u);
}

TEST(FanOut, AReaderFailingMidTableLosesNothingAndTheResumedReadDuplicatesNothing) {
  for (int64_t fail_after : {1, 7, 30, 99}) {
    SCOPED_TRACE(fail_after);
    FakeSink a("a"), b("b");
    b.durable_every = 4;
    std::optional<Position> checkpoint;
    FanOutOptions o;
    o.confirm = [&](const BatchMark& m) {
      const std::optional<Position>& last = m.last;
      checkpoint = last;
      return Status::Ok();
    };
    FakeReader first(100, 3, 0, fail_after);
    FanOutOutcome out = RunFanOut(first, kTable, {}, {&a, &b}, o);
    EXPECT_EQ(out.read_status.code(), StatusCode::kUnavailable);
    // Resume from the confirmed checkpoint into fresh sinks: together they hold every key,
    // and what the first run confirmed is not read again.
    int64_t after = checkpoint ? checkpoint->key.at(0).as<int64_t>() : 0;
    EXPECT_LE(after, a.keys.empty() ? 0 : a.keys.back());  // never past what was written
    FakeSink a2("a"), b2("b");
    FakeReader second(100, 3, after);
    ASSERT_TRUE(RunFanOut(second, kTable, {}, {&a2, &b2}, o).status().ok());
    for (auto [first_run, resumed] : {std::pair{&a, &a2}, std::pair{&b, &b2}}) {
      std::map<int64_t, int> seen;
      for (int64_t k : first_run->keys)
        if (k <= after) seen[k]++;  // what the checkpoint covers
      for (int64_t k : resumed->keys) seen[k]++;
      EXPECT_EQ(seen.size(), 100u);
      for (auto [k, n] : seen) EXPECT_EQ(n, 1) << "key " << k;
    }
  }
}

TEST(FanOut, AStopEndsTheReadAtABatchWithoutFinishingTheSinks) {
  FakeReader reader(1000, 10);
  FakeSink a("a");
  std::atomic<bool> stop{false};
  FanOutOptions o;
  o.stop = &stop;
  o.on_batch = [&](size_t) {
    if (reader.reads() == 5) stop = true;
  };
  FanOutOutcome out = RunFanOut(reader, kTable, {}, {&a}, o);
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.status().code(), StatusCode::kAborted);
  EXPECT_EQ(a.keys, Range(1, 50));
  EXPECT_FALSE(a.finished);  // a half-read table must not look whole
  EXPECT_EQ(out.confirmed, 5u);
}

}  // namespace
}  // namespace di
