// `data-ingestion --mode setup --with-stream` against the stack's PostgreSQL: the publication
// over the mapped tables and their embedded children (here a partitioned one, published as
// itself, not as its partitions), and the permanent pgoutput slot, made
// once (a second run finds them) and checked through psql; a table whose deletes would carry
// no key is refused by name with its fixes, changing nothing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "stack_env.h"

namespace di::testing {
namespace {

class StreamSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Psql("CREATE TABLE " + parent_ + " (id int PRIMARY KEY, v int); CREATE TABLE " + child_ +
         " (id int PRIMARY KEY, parent_id int) PARTITION BY RANGE (id); CREATE TABLE " + child_ +
         "_1 PARTITION OF " + child_ + " FOR VALUES FROM (0) TO (100); CREATE TABLE " + child_ +
         "_2 PARTITION OF " + child_ + " FOR VALUES FROM (100) TO (200); CREATE TABLE " + keyless_ +
         " (v int)");
  }
  void TearDown() override {
    Psql(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name "
        "= '" +
        slot_ + "'");
    Psql("DROP PUBLICATION IF EXISTS " + pub_ + "; DROP TABLE IF EXISTS " + parent_ + ", " +
         child_ + ", " + keyless_);
    std::remove(mapping_.c_str());
  }
  static std::string Underscored(std::string s) {
    for (char& c : s)
      if (c == '-') c = '_';
    return s;
  }
  static std::string Psql(const std::string& sql) {
    return PsqlOn(StackConfig().postgres.database, sql);
  }
  // `--mode setup --with-stream` with `parent_` (embedding `child_`) and `extra` mapped.
  int Setup(const std::string& extra, std::string* out) {
    std::ofstream(mapping_) << R"({"tables": [{"source": "postgresql", "table": ")" + parent_ +
                                   R"(", "dynamodb": {"table": "ss-)" + id_ +
                                   R"(", "key": {"id": "id"}, "embed": [{"table": ")" + child_ +
                                   R"(", "match": {"parent_id": "id"}, "as": "kids"}]}})" +
                                   (extra.empty() ? ""
                                                  : R"(, {"source": "postgresql", "table": ")" +
                                                        extra + R"("})") +
                                   "]}";
    return RunCommand(StackEnvShell() + "S3_BUCKET_NAME=di-" + id_ + " DYNAMODB_STATE_TABLE=st-" +
                          id_ + " MAPPING_FILE=" + mapping_ + " STREAM_PUBLICATION=" + pub_ +
                          " STREAM_SLOT=" + slot_ + " " + DI_BINARY + " --mode setup --with-stream",
                      out);
  }
  const std::string id_ = UniqueName("ss");  // AWS names; s_ the same with '_' for PostgreSQL
  const std::string s_ = Underscored(id_);
  const std::string pub_ = "pub_" + s_, slot_ = "slot_" + s_;
  const std::string parent_ = "ssp_" + s_, child_ = "ssc_" + s_, keyless_ = "ssk_" + s_;
  const std::string mapping_ = "/tmp/" + s_ + "-mapping.json";
};

TEST_F(StreamSetupTest, MakesThePublicationAndTheSlotOnceAndRefusesAKeylessTable) {
  std::string out;
  ASSERT_EQ(Setup("", &out), 0) << out;
  EXPECT_NE(out.find("created        publication " + pub_), std::string::npos) << out;
  EXPECT_NE(out.find(parent_ + ", " + child_ + ")"), std::string::npos) << out;
  EXPECT_NE(out.find("created        replication slot " + slot_), std::string::npos) << out;
  EXPECT_EQ(Psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM "
                 "pg_publication_tables WHERE pubname = '" +
                 pub_ + "'"),
            child_ + "," + parent_);
  EXPECT_EQ(Psql("SELECT plugin, slot_type, temporary, database FROM pg_replication_slots "
                 "WHERE slot_name = '" +
                 slot_ + "'"),
            "pgoutput|logical|f|" + StackConfig().postgres.database);

  ASSERT_EQ(Setup("", &out), 0) << out;  // again: both found
  EXPECT_NE(out.find("already there  publication " + pub_), std::string::npos) << out;
  EXPECT_NE(out.find("already there  replication slot " + slot_), std::string::npos) << out;

  EXPECT_NE(Setup(keyless_, &out), 0) << out;
  EXPECT_NE(out.find("table '" + keyless_ +
                     "' has no primary key, so its deletes and updates "
                     "carry no key for change capture; add a primary key, or run ALTER TABLE \"" +
                     keyless_ + "\" REPLICA IDENTITY FULL"),
            std::string::npos)
      << out;
  EXPECT_EQ(Psql("SELECT count(*) FROM pg_publication_tables WHERE pubname = '" + pub_ + "'"), "2");

  Psql("ALTER TABLE " + keyless_ + " REPLICA IDENTITY FULL");  // the fix it named
  ASSERT_EQ(Setup(keyless_, &out), 0) << out;
  EXPECT_NE(out.find("created        publication " + pub_), std::string::npos) << out;
  EXPECT_NE(out.find(keyless_ + " added"), std::string::npos) << out;
  EXPECT_EQ(Psql("SELECT count(*) FROM pg_publication_tables WHERE pubname = '" + pub_ + "'"), "3");
}

TEST_F(StreamSetupTest, ABadSlotNameIsRefusedAtStart) {
  std::string out;
  EXPECT_EQ(RunCommand(StackEnvShell() + "STREAM_SLOT=Bad-Name " + DI_BINARY +
                           " --mode setup --with-stream",
                       &out),
            2)
      << out;
  EXPECT_NE(out.find("STREAM_SLOT: 'Bad-Name' is not a slot or publication name"),
            std::string::npos)
      << out;
}

// A server without wal_level = logical (a scratch one: the stack's has it) is refused by
// setup, naming the setting and what to do.
TEST(StreamSetupRefusal, AServerWithoutLogicalWalIsRefusedWithTheSettingToChange) {
  const std::string dir = "/tmp/" + UniqueName("scratchpg"), script = std::string(DI_SOURCE_DIR) +
                                                                      "/tests/integration/"
                                                                      "scratch_postgres.sh";
  const int port = StackConfig().postgres.port + 1001 + ::getpid() % 100;
  std::string out;
  ASSERT_EQ(
      RunCommand(script + " start " + dir + " " + std::to_string(port) +
                     " -c wal_level=replica && psql -X -q -h 127.0.0.1 -p " + std::to_string(port) +
                     " -U postgres -c 'CREATE TABLE t (id int PRIMARY KEY)'",
                 &out),
      0)
      << out;
  const std::string id = UniqueName("sr"), mapping = "/tmp/" + id + "-mapping.json";
  std::ofstream(mapping) << R"({"tables": [{"source": "postgresql", "table": "t"}]})";
  const int rc =
      RunCommand(StackEnvShell() + "POSTGRES_PORT=" + std::to_string(port) +
                     " POSTGRES_DATABASE=postgres POSTGRES_PASSWORD= S3_BUCKET_NAME=di-" + id +
                     " DYNAMODB_STATE_TABLE=st-" + id + " MAPPING_FILE=" + mapping + " " +
                     DI_BINARY + " --mode setup --with-stream",
                 &out);
  std::string ignored;
  RunCommand(script + " stop " + dir, &ignored);
  std::remove(mapping.c_str());
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(
      out.find("setup of change capture failed: postgresql://127.0.0.1:" + std::to_string(port) +
               "/postgres: wal_level is 'replica'; logical replication needs wal_level = "
               "logical (postgresql.conf, then restart the server)"),
      std::string::npos)
      << out;
}

}  // namespace
}  // namespace di::testing
