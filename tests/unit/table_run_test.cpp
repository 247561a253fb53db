// One table read into several sinks (pipeline/table_run.h) on fakes, without the stack: a
// fresh run is one read; a resumed run's sinks, stopped at different places, each carry on
// from their own checkpoint in phases of one read, so none rewrites what it had made durable
// and none misses a row — also across many stops at random batches.
#include "pipeline/table_run.h"

#include "fakes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace di {
namespace {

using fakes::FakeSource;
using fakes::IntDecoder;
using fakes::Keys;
const TableInfo& kTable = fakes::FakeTable();

// A target: what it has made durable (`stored`, kept across runs) and what it was given
// since (lost when a run stops). Durable every `every` batches (a part), or at Finish.
class TargetSink : public Sink {
 public:
  TargetSink(std::string name, uint64_t every, std::vector<int64_t>* stored)
      : name_(std::move(name)), every_(every), stored_(*stored) {}
  std::string name() const override { return name_; }
  Status Open(const TableInfo&, const LogPosition&) override { return Status::Ok(); }
  Status Write(const ChangeBatch& b) override {
    if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (b.has_cells && !IntDecoder::Alive(b.cells.decoder))
      return Internal("a batch outlived its reader's decoder");
    for (size_t r = 0; r < b.size(); ++r)
      pending_.push_back(b.has_cells ? b.cells.value(r, 0).as<int64_t>()
                                     : b.rows[r][0].as<int64_t>());
    last_ = b.sequence;
    if (++since_ >= every_) Store();
    return Status::Ok();
  }
  uint64_t Durable() const override { return durable_; }
  Status Finish() override {
    Store();
    return Status::Ok();
  }
  nlohmann::json Checkpoint() const override { return {{"stored", stored_.size()}}; }
  bool slow = false;  // each Write takes 2 ms: batches queue up behind it

 private:
  void Store() {
    stored_.insert(stored_.end(), pending_.begin(), pending_.end());
    pending_.clear();
    since_ = 0;
    durable_ = last_;
  }
  std::string name_;
  uint64_t every_, since_ = 0, last_ = 0, durable_ = 0;
  std::vector<int64_t>& stored_;
  std::vector<int64_t> pending_;
};

TEST(TableRun, AFreshRunIsOneReadAndEverySinkGetsEveryRowOnce) {
  FakeSource source(Keys(100));
  std::vector<int64_t> a, b;
  TargetSink sa("a", 1, &a), sb("b", 7, &b);
  TableReadOptions o;
  o.batch_size = 3;
  int checkpoints = 0;
  o.checkpoint = [&](const std::vector<SinkStart>& at, const std::vector<nlohmann::json>&, bool) {
    ++checkpoints;
    for (const auto& s : at) EXPECT_LE(s.offset, 100);
    return Status::Ok();
  };
  TableReadOutcome out = ReadIntoSinks(source, kTable, {{&sa}, {&sb}}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().message();
  EXPECT_EQ(source.reads(), 1);
  EXPECT_EQ(a, Keys(100));
  EXPECT_EQ(b, Keys(100));
  EXPECT_GT(checkpoints, 0);
}

TEST(TableRun, AResumedRunCarriesEachSinkOnFromItsOwnCheckpoint) {
  // Cells, and slow sinks: batches of a phase are still queued when the next phase opens.
  FakeSource source(Keys(100), true);
  std::vector<int64_t> ahead, behind, none;
  TargetSink s1("ahead", 1, &ahead), s2("behind", 1, &behind), s3("none", 1, &none);
  s1.slow = s2.slow = s3.slow = true;
  auto at_key = [](int64_t k) { return std::optional<Position>(Position{Null{}, {Value(k)}}); };
  TableReadOptions o;
  o.batch_size = 4;
  TableReadOutcome out = ReadIntoSinks(
      source, kTable, {{&s1, at_key(400), 40, {}}, {&s2, at_key(200), 20, {}}, {&s3}}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().message();
  EXPECT_EQ(source.reads(), 3);  // (start, 200], (200, 400], (400, end)
  const std::vector<int64_t> all = Keys(100);
  EXPECT_EQ(none, all);
  EXPECT_EQ(behind, std::vector<int64_t>(all.begin() + 20, all.end()));
  EXPECT_EQ(ahead, std::vector<int64_t>(all.begin() + 40, all.end()));
}

TEST(TableRun, RunsStoppedAtRandomBatchesAndResumedLeaveEveryTargetWholeWithoutDuplicates) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    SCOPED_TRACE(trial);
    FakeSource source(Keys(200));
    std::vector<int64_t> dynamo, backup;  // what each target holds across runs
    std::map<std::string, nlohmann::json> record;
    for (int run = 0;; ++run) {
      ASSERT_LT(run, 100);
      TargetSink d("dynamodb", 1, &dynamo), b("backup", 1 + rng() % 9, &backup);
      std::vector<SinkStart> starts = {SinkStartFrom(&d, record["dynamodb"]),
                                       SinkStartFrom(&b, record["backup"])};
      std::atomic<bool> stop{false};
      const int stop_at = 10 + static_cast<int>(rng() % 40);  // a part fits in a run
      int batches = 0;
      TableReadOptions o;
      o.batch_size = 5;
      o.stop = &stop;
      o.on_progress = [&](int64_t) { stop = ++batches >= stop_at; };
      o.checkpoint = [&](const std::vector<SinkStart>& at, const std::vector<nlohmann::json>& c,
                         bool) {
        for (size_t i = 0; i < at.size(); ++i)
          record[at[i].sink->name()] = SinkStartJson(at[i], c[i]);
        return Status::Ok();
      };
      if (ReadIntoSinks(source, kTable, starts, o).status().ok()) break;
    }
    EXPECT_EQ(dynamo, Keys(200));
    EXPECT_EQ(backup, Keys(200));
  }
}

// A sync's targets at three watermarks (none, 200, 500): one read from the earliest; each
// target gets every row after its own watermark, once, plus at most the rest of the batch
// that goes past it; no checkpoint moves a target back before its watermark.
TEST(TableRun, ASyncIsOneReadFromTheEarliestWatermarkAndEachTargetJoinsAtItsOwn) {
  FakeSource source(Keys(100), true);
  std::vector<int64_t> none, at200, at500;
  TargetSink s1("none", 1, &none), s2("at200", 1, &at200), s3("at500", 2, &at500);
  s2.slow = true;
  auto at_key = [](int64_t k) { return std::optional<Position>(Position{Null{}, {Value(k)}}); };
  TableReadOptions o;
  o.batch_size = 4;  // batches end at 40, 80, ..., 200, ..., 480, 520
  std::vector<int64_t> lowest = {INT64_MAX, INT64_MAX, INT64_MAX};
  o.checkpoint = [&](const std::vector<SinkStart>& at, const std::vector<nlohmann::json>&, bool) {
    for (size_t i = 0; i < at.size(); ++i)
      if (at[i].after) lowest[i] = std::min(lowest[i], at[i].after->key[0].as<int64_t>());
    return Status::Ok();
  };
  TableReadOutcome out =
      SyncIntoSinks(source, kTable, {{&s1}, {&s2, at_key(200)}, {&s3, at_key(500)}}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().message();
  EXPECT_EQ(source.reads(), 1);
  const std::vector<int64_t> all = Keys(100);
  EXPECT_EQ(none, all);
  EXPECT_EQ(at200, std::vector<int64_t>(all.begin() + 20, all.end()));  // 210...
  EXPECT_EQ(at500, std::vector<int64_t>(all.begin() + 48, all.end()));  // 490, 500 again
  EXPECT_GE(lowest[1], 200);
  EXPECT_GE(lowest[2], 500);

  // Every target with a watermark: the read starts after the earliest of them.
  FakeSource later(Keys(100));
  std::vector<int64_t> a, b;
  TargetSink sa("a", 1, &a), sb("b", 1, &b);
  out = SyncIntoSinks(later, kTable, {{&sa, at_key(900)}, {&sb, at_key(700)}}, o);
  ASSERT_TRUE(out.status().ok()) << out.status().message();
  EXPECT_EQ(b, std::vector<int64_t>(all.begin() + 70, all.end()));
  EXPECT_EQ(a, std::vector<int64_t>(all.begin() + 90, all.end()));  // 900 ended a batch
}

}  // namespace
}  // namespace di
