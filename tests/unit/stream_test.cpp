// The backup's streaming pieces: gzip files of several members, the prefetching reader.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sinks/compressor.h"
#include "sources/source.h"

namespace di {
namespace {

TEST(Compressor, GzipMembersOneAfterTheOtherDecompressJoined) {
  auto gz = MakeCompressor(Compression::kGzip);
  std::string file, expected;
  for (int member = 0; member < 3; ++member) {
    std::string text = "member " + std::to_string(member) + "\n" + std::string(70000, 'a' + member);
    expected += text;
    ASSERT_TRUE(gz->Write(text, file).ok());
    ASSERT_TRUE(gz->Finish(file).ok());
    gz->Reset();
  }
  auto back = Decompress("gzip", file);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, expected);
  // A cut inside the second member is still an error, not a shorter file.
  auto cut = Decompress("gzip", std::string_view(file).substr(0, file.size() * 2 / 3));
  EXPECT_FALSE(cut.ok());
  // An empty stream (an empty table's part) is one empty member.
  std::string empty;
  auto fresh = MakeCompressor(Compression::kGzip);
  ASSERT_TRUE(fresh->Finish(empty).ok());
  EXPECT_EQ(*Decompress("gzip", empty), "");
}

// Whole streams (libdeflate's gzip members, zstd frames) between streamed ones: each decodes,
// the file joins them in order, and an empty input is an empty member.
TEST(Compressor, WholeStreamsJoinWithStreamedOnes) {
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    auto c = MakeCompressor(codec);
    std::string file, expected, text;
    for (int i = 0; i < 20000; ++i) text += "{\"id\":" + std::to_string(i * 7919 % 100003) + "}\n";
    ASSERT_TRUE(c->Whole(text, file).ok());
    ASSERT_TRUE(c->Whole("", file).ok());
    ASSERT_TRUE(c->Write("streamed\n", file).ok());
    ASSERT_TRUE(c->Finish(file).ok());
    c->Reset();
    ASSERT_TRUE(c->Whole(text, file).ok());
    expected = text + "streamed\n" + text;
    auto back = Decompress(CodecName(codec), file);
    ASSERT_TRUE(back.ok()) << CodecName(codec) << ": " << back.status().ToString();
    EXPECT_EQ(*back, expected) << CodecName(codec);
    EXPECT_LT(file.size(), expected.size() / 3) << CodecName(codec);
  }
}

// Batches 1..n, then the end (or an error after `fail_after` batches).
class CountingReader : public RowReader {
 public:
  CountingReader(int n, int fail_after, std::atomic<int>* reads)
      : n_(n), fail_after_(fail_after), reads_(reads) {}
  Result<bool> Next(RecordBatch* batch) override {
    batch->clear();
    ++*reads_;
    if (i_ == fail_after_) return Unavailable("connection lost");
    if (i_ == n_) return false;
    batch->rows.push_back({Value(int64_t{++i_})});
    batch->last = Position{Value(int64_t{i_}), {}};
    return true;
  }

 private:
  int n_, fail_after_, i_ = 0;
  std::atomic<int>* reads_;
};

TEST(PrefetchReader, GivesEveryBatchInOrderThenTheEnd) {
  std::atomic<int> reads{0};
  PrefetchReader r(std::make_unique<CountingReader>(50, -1, &reads));
  RecordBatch b;
  for (int64_t i = 1; i <= 50; ++i) {
    auto more = r.Next(&b);
    ASSERT_TRUE(more.ok() && *more);
    ASSERT_EQ(b.rows.size(), 1u);
    EXPECT_EQ(b.rows[0][0].as<int64_t>(), i);
    EXPECT_EQ(b.last->cursor.as<int64_t>(), i);
  }
  for (int k = 0; k < 2; ++k) {  // the end stays the end
    auto more = r.Next(&b);
    ASSERT_TRUE(more.ok());
    EXPECT_FALSE(*more);
    EXPECT_TRUE(b.rows.empty());
  }
}

TEST(PrefetchReader, AnErrorArrivesAfterTheBatchesBeforeIt) {
  std::atomic<int> reads{0};
  PrefetchReader r(std::make_unique<CountingReader>(50, 3, &reads));
  RecordBatch b;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(*r.Next(&b));
  auto more = r.Next(&b);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.status().message().find("connection lost"), std::string::npos);
  EXPECT_FALSE(r.Next(&b).ok());
}

TEST(PrefetchReader, ReadsAtMostOneBatchAheadAndStopsWhenDropped) {
  std::atomic<int> reads{0};
  {
    PrefetchReader r(std::make_unique<CountingReader>(1000, -1, &reads));
    RecordBatch b;
    ASSERT_TRUE(*r.Next(&b));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(reads.load(), 2);  // the one taken and the one waiting; no third
  }
  EXPECT_EQ(reads.load(), 2);
}

}  // namespace
}  // namespace di
