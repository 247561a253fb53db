// A read that carries on after its source's connection drops (sources/resuming_read.h): the
// source reconnects, the read opens again after the last row given, and every row comes
// once, in order — for ordered reads and for full reads of a keyed table, as Values or cells;
// it gives up after MAX_RETRIES reconnects, says why a keyless full read cannot carry on,
// returns other errors as they are, and a stop ends its wait.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "fakes.h"
#include "sources/resuming_read.h"

namespace di {
namespace {

using fakes::FakeSource;
using fakes::FakeTableData;

std::shared_ptr<FakeTableData> Table(int64_t rows, bool cells) {
  auto data = std::make_shared<FakeTableData>();
  data->keys.resize(static_cast<size_t>(rows));
  std::iota(data->keys.begin(), data->keys.end(), 1);
  data->cells = cells;
  data->reconnects = true;
  return data;
}

ReconnectPolicy Policy(std::vector<std::string>* lines, int retries = 3) {
  ReconnectPolicy p;
  p.max_retries = retries;
  p.delay = std::chrono::milliseconds(1);
  p.say = [lines](const std::string& line) { lines->push_back(line); };
  return p;
}

// Every key read through `reader` in order (cells or Values); the batches kept alive.
Result<std::vector<int64_t>> ReadAll(RowReader& reader, std::vector<CellBatch>* kept) {
  std::vector<int64_t> keys;
  while (true) {
    if (reader.CanReadCells()) {
      CellBatch b;
      ASSIGN_OR_RETURN(bool more, reader.NextCells(&b));
      if (!more) return keys;
      for (size_t r = 0; r < b.rows(); ++r) keys.push_back(b.value(r, 0).as<int64_t>());
      kept->push_back(std::move(b));
    } else {
      RecordBatch b;
      ASSIGN_OR_RETURN(bool more, reader.Next(&b));
      if (!more) return keys;
      for (const auto& row : b.rows) keys.push_back(row[0].as<int64_t>());
    }
  }
}

class ResumingReadTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(ResumingReadTest, EveryRowComesOnceInOrderAcrossTwoDrops) {
  const auto [cells, ordered] = GetParam();
  auto data = Table(5000, cells);
  data->drops = 2;
  data->drop_after = 1234;
  FakeSource source(data);
  ReadOptions o;
  o.batch_size = 100;
  o.by_key = ordered;
  std::vector<std::string> lines;
  auto reader = ResumingRead(source, fakes::FakeTable(), o, Policy(&lines));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<CellBatch> kept;
  auto keys = ReadAll(**reader, &kept);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, data->keys);
  EXPECT_EQ(data->reconnected.load(), 2);
  EXPECT_EQ(data->reads.load(), 3);
  // The batches given before each drop still decode: their readers were kept.
  for (const auto& b : kept) EXPECT_TRUE(fakes::IntDecoder::Alive(b.decoder));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("connection lost reading table 't' after 1234 rows"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[3].find("carries on after its first 2468 rows"), std::string::npos) << lines[3];
}

INSTANTIATE_TEST_SUITE_P(CellsOrValuesOrderedOrFull, ResumingReadTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

// A table of 500 rows whose first read drops after 200.
std::shared_ptr<FakeTableData> Dropping(bool cells) {
  auto data = Table(500, cells);
  data->drops = 1;
  data->drop_after = 200;
  return data;
}

// Every key of `table` read from a source of `data` in batches of 100 under `policy`.
Result<std::vector<int64_t>> ReadThrough(std::shared_ptr<FakeTableData> data,
                                         const TableInfo& table, bool by_key,
                                         const ReconnectPolicy& policy) {
  FakeSource source(std::move(data));
  auto reader = ResumingRead(source, table, ReadOptions{100, {}, false, by_key}, policy);
  if (!reader.ok()) return reader.status();
  std::vector<CellBatch> kept;
  return ReadAll(**reader, &kept);
}

TEST(ResumingRead, GivesUpAfterMaxRetriesReconnectsThatFail) {
  auto data = Dropping(false);
  data->reconnect_failures = 10;
  std::vector<std::string> lines;
  auto keys = ReadThrough(data, fakes::FakeTable(), true, Policy(&lines, 2));
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("2 reconnects failed, MAX_RETRIES=2"), std::string::npos)
      << keys.status().message();
  EXPECT_NE(keys.status().message().find("connection refused"), std::string::npos);
  EXPECT_EQ(data->reconnected.load(), 0);
}

TEST(ResumingRead, AReconnectThatFailsOnceIsTriedAgain) {
  auto data = Dropping(true);
  data->reconnect_failures = 1;
  std::vector<std::string> lines;
  auto keys = ReadThrough(data, fakes::FakeTable(), false, Policy(&lines, 2));
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, data->keys);
  EXPECT_NE(lines[1].find("attempt 2 of 2"), std::string::npos) << lines[1];
}

TEST(ResumingRead, AFullReadOfAKeylessTableCannotCarryOn) {
  auto data = Dropping(false);
  TableInfo keyless = fakes::FakeTable();
  keyless.primary_key.clear();
  std::vector<std::string> lines;
  auto keys = ReadThrough(data, keyless, false, Policy(&lines));
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("has no primary key, so its read cannot carry on"),
            std::string::npos)
      << keys.status().message();
  EXPECT_EQ(data->reconnected.load(), 0);
}

TEST(ResumingRead, AnErrorThatIsNotALostConnectionIsReturnedAsItIs) {
  auto data = Dropping(false);
  data->reconnects = false;  // the source says its connection is fine
  std::vector<std::string> lines;
  auto keys = ReadThrough(data, fakes::FakeTable(), true, Policy(&lines));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().message(), "fake source: server closed the connection unexpectedly");
  EXPECT_TRUE(lines.empty());
}

TEST(ResumingRead, AStopEndsTheWaitForAReconnect) {
  auto data = Dropping(false);
  std::atomic<bool> stop{true};
  std::vector<std::string> lines;
  ReconnectPolicy p = Policy(&lines);
  p.delay = std::chrono::seconds(30);
  p.stop = &stop;
  auto keys = ReadThrough(data, fakes::FakeTable(), true, p);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), StatusCode::kAborted);
  EXPECT_EQ(data->reconnected.load(), 0);
}

}  // namespace
}  // namespace di
