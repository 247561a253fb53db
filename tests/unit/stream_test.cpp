// The backup's streaming pieces: gzip files of several members, the prefetching reader.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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

// Fed `file` in pieces of `step` bytes (0: whole); the decompressed text, or the error.
Result<std::string> StreamDecompress(const std::string& codec, std::string_view file, size_t step) {
  ASSIGN_OR_RETURN(auto d, MakeDecompressor(codec));
  std::string out;
  auto sink = [&](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  };
  if (step == 0) step = file.size() + 1;
  for (size_t at = 0; at < file.size(); at += step)
    RETURN_IF_ERROR(d->Write(file.substr(at, step), sink));
  RETURN_IF_ERROR(d->Finish(sink));
  return out;
}

// Members (gzip) or frames (zstd) one after the other, `text_i` each, and their joined text.
std::string Streams(Compression codec, const std::vector<std::string>& texts,
                    std::string* expected) {
  auto c = MakeCompressor(codec);
  std::string file;
  for (const auto& t : texts) {
    *expected += t;
    EXPECT_TRUE(c->Whole(t, file).ok());
  }
  return file;
}

TEST(Decompressor, StreamsSeveralMembersAndFramesInPiecesOfAnySize) {
  std::string big;  // more than one 64 KiB output buffer per member
  for (int i = 0; i < 30000; ++i) big += "{\"id\":" + std::to_string(i * 7919 % 100003) + "}\n";
  for (Compression codec : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    std::string expected;
    std::string file = Streams(codec, {"first\n", big, "", "last\n"}, &expected);
    for (size_t step : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}, size_t{65536}}) {
      auto back = StreamDecompress(CodecName(codec), file, step);
      ASSERT_TRUE(back.ok()) << CodecName(codec) << " step " << step << ": "
                             << back.status().ToString();
      EXPECT_EQ(*back, expected) << CodecName(codec) << " step " << step;
    }
  }
}

TEST(Decompressor, EveryCutOfASmallInputInTwoPiecesDecodesTheSame) {
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    std::string expected;
    std::string file = Streams(codec, {"one\n", "two two\n", "three three three\n"}, &expected);
    for (size_t cut = 0; cut <= file.size(); ++cut) {
      auto d = MakeDecompressor(CodecName(codec));
      ASSERT_TRUE(d.ok());
      std::string out;
      auto sink = [&](std::string_view piece) {
        out.append(piece);
        return Status::Ok();
      };
      std::string_view f(file);
      ASSERT_TRUE((*d)->Write(f.substr(0, cut), sink).ok()) << CodecName(codec) << " " << cut;
      ASSERT_TRUE((*d)->Write(f.substr(cut), sink).ok()) << CodecName(codec) << " " << cut;
      ASSERT_TRUE((*d)->Finish(sink).ok()) << CodecName(codec) << " " << cut;
      EXPECT_EQ(out, expected) << CodecName(codec) << " cut at " << cut;
    }
  }
}

TEST(Decompressor, CorruptTruncatedOrTrailingBytesAreClearErrors) {
  for (Compression codec : {Compression::kGzip, Compression::kZstd}) {
    std::string expected, text(50000, 'x');
    for (int i = 0; i < 5000; ++i) text += std::to_string(i);
    std::string file = Streams(codec, {text, text}, &expected);
    std::string name = CodecName(codec);
    // A flipped byte inside the first member's compressed data (or its checksum).
    std::string damaged = file;
    damaged[file.size() / 4] ^= 0x5a;
    auto bad = StreamDecompress(name, damaged, 1000);
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << name;
    EXPECT_NE(bad.status().message().find(name + ":"), std::string::npos) << bad.status().message();
    // Cut inside the second member/frame: truncated, not a shorter text.
    auto cut = StreamDecompress(name, std::string_view(file).substr(0, file.size() - 5), 1000);
    ASSERT_FALSE(cut.ok()) << name;
    EXPECT_NE(cut.status().message().find("truncated"), std::string::npos)
        << cut.status().message();
    // Bytes after the last member that are no member.
    auto trailing = StreamDecompress(name, file + "garbage!", 1000);
    EXPECT_FALSE(trailing.ok()) << name;
  }
  EXPECT_EQ(MakeDecompressor("lz4").status().code(), StatusCode::kInvalidArgument);
}

TEST(Decompressor, AnErrorOfTheReaderStopsTheStream) {
  for (Compression codec : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    std::string expected;
    std::string file = Streams(codec, {std::string(300000, 'q'), "tail\n"}, &expected);
    auto d = MakeDecompressor(CodecName(codec));
    ASSERT_TRUE(d.ok());
    int calls = 0;
    auto refuse = [&](std::string_view) {
      ++calls;
      return Aborted("enough");
    };
    Status s = (*d)->Write(file, refuse);
    if (s.ok()) s = (*d)->Finish(refuse);  // gzip gathers small input until its end
    EXPECT_EQ(s.code(), StatusCode::kAborted) << CodecName(codec);
    EXPECT_EQ(calls, 1) << CodecName(codec);
  }
}

// gzip members are decoded whole while they are small; one larger than that decoder's bound
// (16 MiB of output) streams through zlib instead, in pieces, to the same text.
TEST(Decompressor, AGzipMemberTooLargeToDecodeWholeStillStreams) {
  std::string line = "{\"id\":1234567,\"note\":\"a fairly ordinary line of text\"}\n", big;
  while (big.size() < (24u << 20)) big += line;
  std::string expected;
  std::string file = Streams(Compression::kGzip, {"small\n", big, "after\n"}, &expected);
  for (size_t step : {size_t{0}, size_t{100000}}) {
    auto back = StreamDecompress("gzip", file, step);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == expected) << "step " << step << ": " << back->size() << " bytes";
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
