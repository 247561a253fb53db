// DatabaseSink's contract as restore relies on it (sinks/database_sink.h): it takes batches of
// insert records only, and nothing is durable before Finish. The engines' sinks themselves
// are tested against the stack (tests/integration/restore_test.cpp).
#include "sinks/database_sink.h"

#include <gtest/gtest.h>

namespace di {
namespace {

// The base class's bookkeeping over an engine that keeps the records it commits.
class KeepingSink : public DatabaseSink {
 public:
  std::string name() const override { return "test table t"; }
  Result<std::optional<std::vector<std::string>>> Columns() override {
    return std::optional<std::vector<std::string>>();
  }
  Result<bool> HasRows() override { return !kept.empty(); }
  Status Begin() override { return Status::Ok(); }
  Status Load(const std::vector<std::string_view>& records) override {
    for (auto r : records) loaded.emplace_back(r);
    return Status::Ok();
  }
  Status Commit() override {
    kept.insert(kept.end(), loaded.begin(), loaded.end());
    loaded.clear();
    return Status::Ok();
  }
  void Abort() override {
    Closed();
    loaded.clear();
  }
  std::vector<std::string> loaded;  // not yet committed
  std::vector<std::string> kept;
};

ChangeBatch Records(uint64_t sequence, std::vector<std::string_view> lines) {
  ChangeBatch b;
  b.sequence = sequence;
  b.has_records = true;
  b.records = std::move(lines);
  return b;
}

TEST(DatabaseSink, TakesInsertRecordsAndIsDurableOnlyOnceFinished) {
  KeepingSink sink;
  EXPECT_TRUE(sink.TakesRecords());
  EXPECT_FALSE(sink.TakesCells());
  ASSERT_TRUE(sink.Open(TableInfo{}, LogPosition()).ok());
  ASSERT_TRUE(sink.Write(Records(1, {R"({"id":1})", R"({"id":2})"})).ok());
  ASSERT_TRUE(sink.Write(Records(2, {R"({"id":3})"})).ok());
  EXPECT_EQ(sink.Durable(), 0u) << "nothing is durable before the commit";
  EXPECT_TRUE(sink.kept.empty());
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(sink.Durable(), 2u);
  EXPECT_EQ(sink.kept, (std::vector<std::string>{R"({"id":1})", R"({"id":2})", R"({"id":3})"}));
}

TEST(DatabaseSink, RefusesRowsAndChangeRecordsByName) {
  KeepingSink sink;
  ChangeBatch rows;
  rows.sequence = 1;
  rows.rows.push_back({Value{int64_t{1}}});
  Status s = sink.Write(rows);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("test table t: a database sink takes backup records"),
            std::string::npos)
      << s.message();

  ChangeBatch changes = Records(1, {R"({"id":1})", R"({"id":2})"});
  changes.ops = {ChangeOp::kInsert, ChangeOp::kDelete};
  s = sink.Write(changes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("a delete record: restoring changes is not supported yet"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(sink.loaded.empty()) << "a refused batch writes nothing";
}

}  // namespace
}  // namespace di
