// Ordered reads, on (change column, primary key) and on the primary key: ties on updated_at
// across batch boundaries, resuming from a watermark inside a tie, a read being one snapshot
// whose concurrent changes the next read gets, another command between batches — nothing
// missed, nothing read twice.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <map>
#include <set>

#include "core/json_encode.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

constexpr int kRows = 25;
constexpr int kTie = 10;  // rows 1-10 share one timestamp, 11-20 the next, 21-25 the last

// One scratch table per engine, with statements to fill and update it.
class Scratch {
 public:
  virtual ~Scratch() = default;
  virtual void Create() = 0;
  // Sets row `id` to version `version` with updated_at = base + `second` seconds.
  virtual void Update(int id, int version, int second) = 0;
  virtual std::unique_ptr<Source> Open() = 0;
  virtual std::string Table() = 0;
  virtual void Drop() = 0;
};

int IdOf(const std::vector<Value>& row, Engine e) {
  if (e == Engine::kMongo) return row[0].as<Document>().Find("_id")->as<Int32>().v;
  return static_cast<int>(row[0].as<int64_t>());
}
int VersionOf(const std::vector<Value>& row, Engine e) {
  if (e == Engine::kMongo) return row[0].as<Document>().Find("v")->as<Int32>().v;
  return static_cast<int>(row[1].as<int64_t>());
}

class SqlScratch : public Scratch {
 public:
  explicit SqlScratch(Engine e) : e_(e) {}
  std::string Table() override { return "inc_test"; }
  void Exec(const std::string& sql) {
    if (e_ == Engine::kMySql) {
      bool ok = false;
      MySqlPtr db = ConnectMySql(&ok);
      ASSERT_TRUE(ok);
      ASSERT_EQ(mysql_query(db.get(), sql.c_str()), 0) << mysql_error(db.get()) << "\n" << sql;
    } else {
      PgPtr pg = ConnectPg();
      PQclear(PQexec(pg.get(), "SET client_min_messages = warning"));
      PGresult* r = PQexec(pg.get(), sql.c_str());
      ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r) << "\n" << sql;
      PQclear(r);
    }
  }
  std::string Ts(int second) {
    return "'2025-01-01 00:00:" + std::string(second < 10 ? "0" : "") + std::to_string(second) +
           ".250000'";
  }
  void Create() override {
    Drop();
    Exec(e_ == Engine::kMySql ? "CREATE TABLE inc_test (id INT PRIMARY KEY, v INT NOT NULL, "
                                "updated_at DATETIME(6) NOT NULL)"
                              : "CREATE TABLE inc_test (id INT PRIMARY KEY, v INT NOT NULL, "
                                "updated_at TIMESTAMPTZ NOT NULL)");
    std::string sql = "INSERT INTO inc_test VALUES ";
    for (int id = 1; id <= kRows; ++id)
      sql += (id > 1 ? "," : "") + std::string("(") + std::to_string(id) + ",0," +
             Ts((id - 1) / kTie) + ")";
    Exec(sql);
  }
  void Drop() override { Exec("DROP TABLE IF EXISTS inc_test"); }
  void Update(int id, int version, int second) override {
    Exec("UPDATE inc_test SET v = " + std::to_string(version) + ", updated_at = " + Ts(second) +
         " WHERE id = " + std::to_string(id));
  }
  std::unique_ptr<Source> Open() override {
    const Config& c = StackConfig();
    auto r = e_ == Engine::kMySql ? OpenMySqlSource({c.mysql}) : OpenPostgresSource({c.postgres});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

 private:
  Engine e_;
};

class MongoScratch : public Scratch {
 public:
  MongoScratch() {
    mongoc_init();
    client_ = mongoc_client_new(StackConfig().mongo.uri.c_str());
    coll_ = mongoc_client_get_collection(client_, StackConfig().mongo.database.c_str(), "inc_test");
  }
  ~MongoScratch() override {
    mongoc_collection_destroy(coll_);
    mongoc_client_destroy(client_);
  }
  std::string Table() override { return "inc_test"; }
  static int64_t Ms(int second) { return 1735689600000LL + second * 1000 + 250; }
  void Create() override {
    bson_error_t e;
    mongoc_collection_drop(coll_, &e);
    for (int id = 1; id <= kRows; ++id) {
      bson_t* doc = BCON_NEW("_id", BCON_INT32(id), "v", BCON_INT32(0), "updated_at",
                             BCON_DATE_TIME(Ms((id - 1) / kTie)));
      ASSERT_TRUE(mongoc_collection_insert_one(coll_, doc, nullptr, nullptr, &e)) << e.message;
      bson_destroy(doc);
    }
  }
  void Drop() override {
    bson_error_t e;
    mongoc_collection_drop(coll_, &e);
  }
  void Update(int id, int version, int second) override {
    bson_t* sel = BCON_NEW("_id", BCON_INT32(id));
    bson_t* upd = BCON_NEW("$set", "{", "v", BCON_INT32(version), "updated_at",
                           BCON_DATE_TIME(Ms(second)), "}");
    bson_error_t e;
    ASSERT_TRUE(mongoc_collection_update_one(coll_, sel, upd, nullptr, nullptr, &e)) << e.message;
    bson_destroy(sel);
    bson_destroy(upd);
  }
  std::unique_ptr<Source> Open() override {
    auto r = OpenMongoSource(StackConfig().mongo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

 private:
  mongoc_client_t* client_;
  mongoc_collection_t* coll_;
};

class IncrementalTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kMongo)
      scratch_ = std::make_unique<MongoScratch>();
    else
      scratch_ = std::make_unique<SqlScratch>(GetParam());
    scratch_->Create();
    src_ = scratch_->Open();
    auto info = src_->Describe(scratch_->Table());
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    info_ = *info;
    ASSERT_EQ(info_.cursor_column, "updated_at");
  }
  void TearDown() override {
    src_.reset();
    scratch_->Drop();
  }
  // Reads incrementally from `after`, calling `between` after each batch.
  std::vector<std::vector<Value>> ReadFrom(std::optional<Position> after, size_t batch,
                                           const std::function<void(int)>& between = nullptr,
                                           std::optional<Position>* last = nullptr) {
    ReadOptions o{batch, std::move(after), true};
    auto reader = src_->Read(info_, o);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<std::vector<Value>> rows;
    RecordBatch b;
    int n = 0;
    while (true) {
      auto more = (*reader)->Next(&b);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      EXPECT_LE(b.rows.size(), batch);
      EXPECT_TRUE(b.last.has_value());
      if (last) *last = b.last;
      for (auto& r : b.rows) rows.push_back(std::move(r));
      if (between) between(++n);
    }
    return rows;
  }
  std::vector<int> Ids(const std::vector<std::vector<Value>>& rows) {
    std::vector<int> ids;
    for (const auto& r : rows) ids.push_back(IdOf(r, GetParam()));
    return ids;
  }

  std::unique_ptr<Scratch> scratch_;
  std::unique_ptr<Source> src_;
  TableInfo info_;
};

TEST_P(IncrementalTest, TiesAcrossBatchBoundariesAreReadExactlyOnce) {
  for (size_t batch : {1u, 3u, 4u, 10u, 100u}) {
    std::optional<Position> last;
    auto ids = Ids(ReadFrom(std::nullopt, batch, nullptr, &last));
    std::vector<int> want;
    for (int i = 1; i <= kRows; ++i) want.push_back(i);
    EXPECT_EQ(ids, want) << "batch " << batch;
    ASSERT_TRUE(last.has_value());
    // The watermark of the last batch is the last row: nothing after it.
    EXPECT_TRUE(ReadFrom(last, batch).empty()) << "batch " << batch;
  }
}

TEST_P(IncrementalTest, ResumingFromAWatermarkInsideATieMissesNothing) {
  // Read 3 batches of 4 (stops inside the second tie group), then resume from its watermark.
  ReadOptions o{4, std::nullopt, true};
  auto reader = src_->Read(info_, o);
  ASSERT_TRUE(reader.ok());
  RecordBatch b;
  std::vector<int> first;
  Position mark;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(*(*reader)->Next(&b));
    for (auto& r : b.rows) first.push_back(IdOf(r, GetParam()));
    mark = *b.last;
  }
  EXPECT_EQ(first, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  auto rest = Ids(ReadFrom(mark, 4));
  EXPECT_EQ(rest, (std::vector<int>{13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}));
  // A bare timestamp watermark (--since) reads the rows strictly after it.
  Position since{mark.cursor, {}};
  EXPECT_EQ(Ids(ReadFrom(since, 100)), (std::vector<int>{21, 22, 23, 24, 25}));
}

TEST_P(IncrementalTest, AReadIsOneSnapshotAndTheNextReadGetsTheChangesMadeDuringIt) {
  std::optional<Position> last;
  auto rows = ReadFrom(
      std::nullopt, 5,
      [&](int batch) {
        if (batch == 1) {
          scratch_->Update(2, 1, 30);   // already read
          scratch_->Update(22, 1, 31);  // not read yet
        }
      },
      &last);
  // One ordered pass: every row once, as it was when the read began.
  std::map<int, int> seen;
  for (const auto& r : rows) {
    EXPECT_EQ(VersionOf(r, GetParam()), 0) << "row " << IdOf(r, GetParam());
    seen[IdOf(r, GetParam())]++;
  }
  EXPECT_EQ(rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  // The changes made during it come after its last position, in their new versions.
  ASSERT_TRUE(last.has_value());
  auto changed = ReadFrom(last, 5);
  EXPECT_EQ(Ids(changed), (std::vector<int>{2, 22}));
  for (const auto& r : changed) EXPECT_EQ(VersionOf(r, GetParam()), 1);
}

TEST_P(IncrementalTest, KeyOrderReadsResumeByKeyWhateverTheChangeColumn) {
  for (size_t batch : {1u, 4u, 10u, 100u}) {
    ReadOptions o{batch, std::nullopt, false, true};
    auto reader = src_->Read(info_, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    RecordBatch b;
    std::vector<int> ids;
    Position mark;
    for (int i = 0; i < 2 && *(*reader)->Next(&b); ++i) {
      for (auto& r : b.rows) ids.push_back(IdOf(r, GetParam()));
      ASSERT_TRUE(b.last.has_value());
      EXPECT_TRUE(b.last->cursor.is_null());  // a key position
      ASSERT_EQ(b.last->key.size(), 1u);
      mark = *b.last;
    }
    reader->reset();
    scratch_->Update(1, 1, 59);  // a change column moving does not move a key order read
    ReadOptions resumed{batch, mark, false, true};
    auto rest = src_->Read(info_, resumed);
    ASSERT_TRUE(rest.ok()) << rest.status().ToString();
    while (*(*rest)->Next(&b))
      for (auto& r : b.rows) ids.push_back(IdOf(r, GetParam()));
    std::vector<int> want;
    for (int i = 1; i <= kRows; ++i) want.push_back(i);
    EXPECT_EQ(ids, want) << "batch " << batch;
  }
}

TEST_P(IncrementalTest, ALookupInTheMiddleOfAnOrderedReadLosesNoRow) {
  for (bool by_key : {false, true}) {
    ReadOptions o{4, std::nullopt, !by_key, by_key};
    auto reader = src_->Read(info_, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    RecordBatch b;
    std::vector<int> ids;
    while (*(*reader)->Next(&b)) {
      for (auto& r : b.rows) ids.push_back(IdOf(r, GetParam()));
      // Another command on the same connection between two batches.
      Value id = GetParam() == Engine::kMongo ? Value(Int32{3}) : Value(int64_t{3});
      auto found = src_->Lookup(info_, GetParam() == Engine::kMongo ? "_id" : "id", {id});
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      EXPECT_EQ(found->size(), 1u);
    }
    std::vector<int> want;
    for (int i = 1; i <= kRows; ++i) want.push_back(i);
    EXPECT_EQ(ids, want) << (by_key ? "by key" : "by change column");
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, IncrementalTest,
                         ::testing::Values(Engine::kMySql, Engine::kPostgres, Engine::kMongo),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace di::testing
