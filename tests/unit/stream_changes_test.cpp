// The stream's pure parts, without the stack: a batch's net changes per key (pipeline/
// stream_net.h) — folded in order, unsent values taken from earlier changes, a moved key's old
// row deleted — and the change log (pipeline/change_log.h) written by ChangeLogSink to a local
// folder and read back: every change once, in log order, even when a restarted stream wrote
// some of them again in objects cut elsewhere.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "pipeline/change_log.h"
#include "pipeline/stream_net.h"
#include "pipeline/stream_sinks.h"

namespace di {
namespace {

namespace fs = std::filesystem;

// One description, shared by the changes as the stream shares it until the table changes.
std::shared_ptr<const TableInfo> Table() {
  static const std::shared_ptr<const TableInfo> table = [] {
    auto t = std::make_shared<TableInfo>();
    t->engine = Engine::kPostgres;
    t->name = "users";
    for (const char* c : {"id", "v", "doc"}) {
      ColumnInfo col;
      col.name = c;
      col.source_type = c == std::string("doc") ? "text" : "bigint";
      t->columns.push_back(col);
    }
    t->primary_key = {"id"};
    return std::shared_ptr<const TableInfo>(t);
  }();
  return table;
}

StreamChange Change(ChangeOp op, int64_t id, Value v, Value doc, uint64_t lsn, uint32_t sequence,
                    std::vector<bool> unchanged = {}) {
  StreamChange c;
  c.table = Table();
  c.op = op;
  c.row = {Value(id), std::move(v), std::move(doc)};
  c.unchanged = std::move(unchanged);
  char text[32];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn));
  c.position = text;
  c.sequence = sequence;
  c.order = lsn;
  c.commit_micros = 1767225600000000 + static_cast<int64_t>(lsn);
  return c;
}

TEST(StreamNet, FoldsEachKeysChangesInOrder) {
  std::vector<StreamChange> b;
  b.push_back(Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 100, 0));
  b.push_back(Change(ChangeOp::kUpdate, 1, Value(int64_t{2}), Value(Null{}), 100, 1,
                     {false, false, true}));  // doc not sent: the insert's stays
  b.push_back(Change(ChangeOp::kUpdate, 2, Value(int64_t{7}), Value(Null{}), 200, 0,
                     {false, false, true}));  // nothing earlier: stays unsent
  b.push_back(Change(ChangeOp::kInsert, 3, Value(int64_t{1}), Value("c"), 200, 1));
  b.push_back(Change(ChangeOp::kDelete, 3, Value(Null{}), Value(Null{}), 300, 0));
  StreamChange moved = Change(ChangeOp::kUpdate, 5, Value(int64_t{9}), Value("e"), 300, 1);
  moved.old_key = {Value(int64_t{4})};
  b.push_back(moved);
  auto net = NetChanges(b);
  ASSERT_TRUE(net.ok()) << net.status().message();
  ASSERT_EQ(net->size(), 1u);
  const auto& rows = (*net)[0].rows;
  ASSERT_EQ(rows.size(), 5u);  // keys 1, 2, 3, 4 (gone), 5 in first-touched order
  EXPECT_EQ(rows[0].row, (std::vector<Value>{Value(int64_t{1}), Value(int64_t{2}), Value("a")}));
  EXPECT_FALSE(rows[0].has_unchanged());
  EXPECT_EQ(rows[1].unchanged, (std::vector<bool>{false, false, true}));
  EXPECT_TRUE(rows[2].deleted);
  EXPECT_EQ(rows[3].key, std::vector<Value>{Value(int64_t{4})});
  EXPECT_TRUE(rows[3].deleted);
  EXPECT_FALSE(rows[4].deleted);
  EXPECT_EQ(rows[4].row[1], Value(int64_t{9}));
}

TEST(StreamNet, ATruncateEmptiesTheTableBeforeTheChangesAfterIt) {
  StreamChange gone = Change(ChangeOp::kTruncate, 0, Value(Null{}), Value(Null{}), 200, 0);
  gone.row.clear();
  auto net = NetChanges({Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 100, 0),
                         Change(ChangeOp::kUpdate, 2, Value(int64_t{1}), Value("b"), 100, 1), gone,
                         Change(ChangeOp::kInsert, 3, Value(int64_t{3}), Value("c"), 300, 0)});
  ASSERT_TRUE(net.ok()) << net.status().message();
  ASSERT_EQ(net->size(), 1u);
  EXPECT_EQ((*net)[0].truncated, Table());
  ASSERT_EQ((*net)[0].rows.size(), 1u);  // 1 and 2 went with the TRUNCATE
  EXPECT_EQ((*net)[0].rows[0].key, std::vector<Value>{Value(int64_t{3})});
  auto plain = NetChanges({Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 100, 0)});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0].truncated, nullptr);
}

TEST(StreamNet, ATableWithoutAPrimaryKeyIsNamed) {
  StreamChange c = Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 100, 0);
  auto t = std::make_shared<TableInfo>(*c.table);
  t->primary_key.clear();
  c.table = t;
  auto net = NetChanges({c});
  ASSERT_FALSE(net.ok());
  EXPECT_NE(net.status().message().find("users has no primary key"), std::string::npos);
}

TEST(ChangeLog, ALineHoldsTheChangeItsKeyAndItsRecord) {
  std::string line;
  StreamChange c = Change(ChangeOp::kUpdate, 5, Value(int64_t{9}), Value(Null{}), 0x16B3748, 3,
                          {false, false, true});
  c.old_key = {Value(int64_t{4})};
  AppendChangeLine(c, RecordWriter(*c.table), line);
  EXPECT_EQ(line,
            "{\"op\":\"update\",\"position\":\"0/16B3748\",\"sequence\":3,\"commit_time\":"
            "\"2026-01-01T00:00:23.803720Z\",\"key\":{\"id\":5},\"row\":{\"id\":5,\"v\":9,"
            "\"doc\":null},\"unchanged\":[\"doc\"],\"old_key\":{\"id\":4}}");
  EXPECT_EQ(ChangeLogPlace(c), "00000000016B3748.00000003");
}

TEST(ChangeLog, APlaceIsTheLsnIn16HexDigitsAndTheSequenceIn8) {
  for (uint64_t lsn : {uint64_t{0}, uint64_t{0x16B3748}, uint64_t{0x1A4AEEA110}, ~uint64_t{0}})
    for (uint32_t seq : {0u, 3u, 12345678u, 99999999u, 100000000u, ~0u}) {
      char want[40];
      std::snprintf(want, sizeof want, "%016llX.%08u", static_cast<unsigned long long>(lsn), seq);
      EXPECT_EQ(PgChangeLogPlace(lsn, seq), want);
    }
  EXPECT_EQ(ChangeLogPlaceOf(Engine::kPostgres, "1A/4AEEA110", 7), "0000001A4AEEA110.00000007");
  EXPECT_EQ(ChangeLogPlaceOf(Engine::kPostgres, "not an lsn", 7), "");
}

class ChangeLogRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("di-changelog-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store_ = MakeLocalStore(dir_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::vector<StreamChange>& changes, StreamFrom from = {{"users", 0}}) {
    ChangeLogSink sink(*store_, "backups", Compression::kGzip, std::move(from));
    StreamBatch b;
    b.changes = changes;
    ASSERT_TRUE(sink.Apply(b).ok());
  }
  std::vector<std::string> Read(const std::string& from) {
    std::vector<std::string> got;
    Status s = ReadChangeLog(*store_, "backups", *Table(), from, [&](const LoggedChange& c) {
      got.push_back(c.place + " " + c.doc["op"].get<std::string>() + " " + c.row_text);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.message();
    return got;
  }
  fs::path dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ChangeLogRead, EveryChangeOnceInLogOrderAfterARestartWroteSomeAgain) {
  auto a = Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 0x100, 0);
  auto b = Change(ChangeOp::kUpdate, 1, Value(int64_t{2}), Value("b"), 0x200, 0);
  auto c = Change(ChangeOp::kDelete, 1, Value(Null{}), Value(Null{}), 0x300, 0);
  auto d = Change(ChangeOp::kInsert, 2, Value(int64_t{1}), Value("d"), 0x300, 1);
  Write({a, b});
  Write({b, c});  // a restarted stream: b again, cut elsewhere
  Write({c, d});  // and c again
  Write({a});     // a restart from further back still
  auto got = Read("");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "0000000000000100.00000000 insert {\"id\":1,\"v\":1,\"doc\":\"a\"}");
  EXPECT_EQ(got[1], "0000000000000200.00000000 update {\"id\":1,\"v\":2,\"doc\":\"b\"}");
  EXPECT_EQ(got[2], "0000000000000300.00000000 delete ");
  EXPECT_EQ(got[3], "0000000000000300.00000001 insert {\"id\":2,\"v\":1,\"doc\":\"d\"}");
  // From a place on: what comes before it is passed over.
  auto later = Read(ChangeLogPlaceOf(Engine::kPostgres, "0/300", 0));
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].substr(0, 32), "0000000000000300.00000000 delete");
}

TEST_F(ChangeLogRead, HeldChangesMakeOneObjectWhenFlushedAndNoneBefore) {
  auto a = Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 0x100, 0);
  auto b = Change(ChangeOp::kUpdate, 1, Value(int64_t{2}), Value("b"), 0x200, 0);
  ChangeLogSink sink(*store_, "backups", Compression::kGzip, {{"users", 0}}, std::chrono::hours(1));
  StreamBatch batch;
  batch.changes = {a};
  ASSERT_TRUE(sink.Apply(batch).ok());
  batch.changes = {b};
  ASSERT_TRUE(sink.Apply(batch).ok());
  EXPECT_TRUE(sink.holding());
  EXPECT_TRUE(Read("").empty());  // nothing stored yet
  EXPECT_EQ(sink.objects(), 0);
  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_FALSE(sink.holding());
  EXPECT_EQ(sink.objects(), 1);
  auto got = Read("");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].substr(0, 32), "0000000000000200.00000000 update");
  ASSERT_TRUE(sink.Flush().ok());  // nothing held: no object
  EXPECT_EQ(sink.objects(), 1);
}

TEST_F(ChangeLogRead, OnlyChangesAfterTheTablesSnapshotAreLogged) {
  auto a = Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 0x100, 0);
  auto b = Change(ChangeOp::kUpdate, 1, Value(int64_t{2}), Value("b"), 0x200, 0);
  Write({a, b}, {{"users", 0x200}});  // a is in the snapshot taken at 0/200
  Write({a, b}, {{"other", 0}});      // users is not logged at all
  auto got = Read("");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].substr(0, 32), "0000000000000200.00000000 update");
}

TEST_F(ChangeLogRead, ATruncateIsALineWithoutAKey) {
  StreamChange gone = Change(ChangeOp::kTruncate, 0, Value(Null{}), Value(Null{}), 0x200, 0);
  gone.row.clear();
  std::string line;
  AppendChangeLine(gone, RecordWriter(*gone.table), line);
  EXPECT_EQ(line,
            "{\"op\":\"truncate\",\"position\":\"0/200\",\"sequence\":0,\"commit_time\":"
            "\"2026-01-01T00:00:00.000512Z\"}");
  Write({Change(ChangeOp::kInsert, 1, Value(int64_t{1}), Value("a"), 0x100, 0), gone});
  auto got = Read("");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "0000000000000200.00000000 truncate ");
}

TEST_F(ChangeLogRead, ALineThatIsNotAChangeIsNamedWithItsObject) {
  ASSERT_TRUE(store_
                  ->Put("backups/postgresql/users/changes/0000000000000100.00000000-"
                        "0000000000000100.00000000.jsonl",
                        "{\"op\":\"insert\"}\n", "application/x-ndjson")
                  .ok());
  Status s = ReadChangeLog(*store_, "backups", *Table(), "",
                           [](const LoggedChange&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("line 1 is not a change record"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace di
