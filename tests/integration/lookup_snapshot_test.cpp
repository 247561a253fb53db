// The DynamoDB lookups of a migrate (a table's embedded child rows) see the snapshot of the
// table's read: while writers give a parent row and all its children one new value in each
// transaction throughout the run, every item's embedded children carry their parent's value
// (read back through boto3). PostgreSQL's lookups import the read's exported snapshot;
// MariaDB's run on the read's own connection, in its transaction, between its pages.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "stack_env.h"

namespace di::testing {
namespace {

constexpr char kCounts[] = "OK 2000 items, 6000 children";
using SqlOn = std::string (*)(const std::string& db, const std::string& sql);

class LookupSnapshotTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(mapping_.c_str()); }
  // A table name of this test's own: "<prefix>_<pid>_<n>".
  std::string Table(const std::string& prefix) {
    std::string t = prefix + "_" + s_.substr(s_.find('-') + 1);
    for (char& c : t)
      if (c == '-') c = '_';
    return t;
  }
  // `parent` of `engine` mapped to the DynamoDB table "lk-<s_>" keyed by id, embedding the
  // rows of `child` whose parent_id is its id as "kids", set up: the environment that runs
  // it ("" when setup failed, its output in `out`).
  std::string Setup(const std::string& engine, const std::string& parent, const std::string& child,
                    std::string* out) {
    mapping_ = "/tmp/" + s_ + "-mapping.json";
    std::ofstream(mapping_) << R"({"tables": [{"source": ")" + engine + R"(", "table": ")" +
                                   parent + R"(", "dynamodb": {"table": "lk-)" + s_ +
                                   R"(", "key": {"id": "id"}, "embed": [{"table": ")" + child +
                                   R"(", "match": {"parent_id": "id"}, "as": "kids"}]}}]})";
    const std::string env = StackEnvShell() + "export S3_BUCKET_NAME=di-" + s_ +
                            " DYNAMODB_STATE_TABLE=state-" + s_ + " MAPPING_FILE=" + mapping_ +
                            " WORKERS=1 BATCH_SIZE=100 && ";
    return RunCommand(env + DI_BINARY + " --mode setup", out) == 0 ? env : "";
  }
  // `parent` (2000 rows, v 0) and `child` (3 rows each, v 0) made in `db` by `ddl`, run with
  // `on` (PsqlOn, MariaDbOn); a migrate of `engine`'s `parent` (pausing 40 ms at each of its
  // 20 checkpoints) under writers running `writer`; then every item's children checked.
  void MigrateUnderWritesAndCheck(const std::string& engine, SqlOn on, const std::string& db,
                                  const std::string& ddl, const std::string& writer) {
    on(db, "DROP TABLE IF EXISTS " + parent_ + ", " + child_);
    on(db, ddl);
    ASSERT_EQ(on(db, "SELECT COUNT(*) FROM " + child_), "6000");
    std::string out, cmp;
    const std::string env = Setup(engine, parent_, child_, &out);
    ASSERT_FALSE(env.empty()) << out;
    const int rc = RunUnderWrites(
        writer, env + "DI_PAUSE_AFTER_CHECKPOINT_MS=40 " + DI_BINARY + " --mode migrate",
        "/tmp/" + s_ + "-writers.", &out);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("WARNING"), std::string::npos) << out;  // the lookups joined
    EXPECT_EQ(RunCommand(StackEnvShell() + VenvPython() + " " + DI_SOURCE_DIR +
                             "/tests/integration/check_embedded.py " +
                             StackConfig().aws.endpoint_url + " lk-" + s_ + " kids v",
                         &cmp),
              0)
        << cmp << out;
    EXPECT_EQ(cmp.rfind(kCounts, 0), 0u) << cmp;
    on(db, "DROP TABLE " + parent_ + ", " + child_);
  }
  std::string s_ = UniqueName("lk");
  std::string mapping_;
  const std::string parent_ = Table("lkp"), child_ = Table("lkc");
};

TEST_F(LookupSnapshotTest, OnPostgresEachItemsEmbeddedRowsAreOfItsRowsSnapshot) {
  const std::string p = parent_, c = child_;
  const auto& pg = StackConfig().postgres;
  // Each writer's transaction: five parents a new value, and their children the same.
  MigrateUnderWritesAndCheck(
      "postgresql", PsqlOn, pg.database,
      "CREATE TABLE " + p +
          " (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT "
          "now()); CREATE TABLE " +
          c + " (id serial PRIMARY KEY, parent_id int NOT NULL, v int NOT NULL); CREATE INDEX ON " +
          c + " (parent_id); INSERT INTO " + p +
          " (id, v) SELECT g, 0 FROM generate_series(1, 2000) g; INSERT INTO " + c +
          " (parent_id, v) SELECT p, 0 FROM generate_series(1, 2000) p, generate_series(1, 3)",
      "psql -X -q -h " + pg.host + " -p " + std::to_string(pg.port) + " -U " + pg.user + " -d " +
          pg.database + " -c \"WITH p AS (UPDATE " + p +
          " SET v = v + 1, updated_at = now() WHERE id IN (SELECT 1 + (random() * 1999)::int "
          "FROM generate_series(1, 5)) RETURNING id, v) UPDATE " +
          c + " c SET v = p.v FROM p WHERE c.parent_id = p.id\"");
}

TEST_F(LookupSnapshotTest, OnMariaDbEachItemsEmbeddedRowsAreOfItsRowsSnapshot) {
  const std::string p = parent_, c = child_;
  const auto& my = StackConfig().mysql;
  // Each writer's transaction: three parents a new value, and their children the same.
  MigrateUnderWritesAndCheck(
      "mysql", MariaDbOn, my.database,
      "CREATE TABLE " + p +
          " (id int PRIMARY KEY, v int NOT NULL, updated_at timestamp(6) NOT NULL DEFAULT "
          "current_timestamp(6)); CREATE TABLE " +
          c +
          " (id int AUTO_INCREMENT PRIMARY KEY, parent_id int NOT NULL, v int NOT NULL, KEY "
          "(parent_id)); INSERT INTO " +
          p + " (id, v) SELECT seq, 0 FROM seq_1_to_2000; INSERT INTO " + c +
          " (parent_id, v) SELECT p.seq, 0 FROM seq_1_to_2000 p, seq_1_to_3 k",
      "mariadb -h " + my.host + " -P " + std::to_string(my.port) + " -u " + my.user +
          " -p\"$MYSQL_PASSWORD\" " + my.database +
          " -e \"SET @a = 1 + floor(rand() * 1999), @b = 1 + floor(rand() * 1999), @c = 1 + "
          "floor(rand() * 1999); BEGIN; UPDATE " +
          p + " SET v = v + 1 WHERE id IN (@a, @b, @c); UPDATE " + c + " c JOIN " + p +
          " p ON p.id = c.parent_id SET c.v = p.v WHERE p.id IN (@a, @b, @c); COMMIT;\"");
}

}  // namespace
}  // namespace di::testing
