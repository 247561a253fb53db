// Crash and verify: `migrate` killed with SIGKILL at several points and started again ends
// with exactly the source's rows in DynamoDB and a complete backup (verify finds nothing);
// then tampering with DynamoDB and the source is reported key by key, exit code 1.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::string out;
    EXPECT_EQ(Reseed(&out), 0) << out;
  }
  std::string Env() {
    return StackEnvShell() + "export S3_BUCKET_NAME=di-" + s_ + " DYNAMODB_MOVIES_TABLE=movies-" +
           s_ + " DYNAMODB_ROOMS_TABLE=rooms-" + s_ + " DYNAMODB_RESERVATIONS_TABLE=res-" + s_ +
           " DYNAMODB_USERS_TABLE=users-" + s_ + " DYNAMODB_STATE_TABLE=state-" + s_ +
           " WORKERS=3 BATCH_SIZE=500 && ";
  }
  // The test's own table name ("snap_<n>"), and a mapping of that `engine` table to the
  // DynamoDB table "<prefix>-<s_>" keyed by id, set up: the environment that runs with it
  // ("" when setup failed, its output in setup_output_).
  std::string SnapTable() {
    std::string t = "snap_" + s_.substr(s_.find('-') + 1);
    for (char& c : t)
      if (c == '-') c = '_';
    return t;
  }
  std::string SnapMapping(const std::string& prefix) {
    return "/tmp/" + s_ + "-" + prefix + ".json";
  }
  std::string SnapEnv(const std::string& engine, const std::string& table,
                      const std::string& prefix) {
    std::ofstream(SnapMapping(prefix)) << R"({"tables": [{"source": ")" + engine +
                                              R"(", "table": ")" + table +
                                              R"(", "dynamodb": {"table": ")" + prefix + "-" + s_ +
                                              R"(", "key": {"id": "id"}}}]})";
    std::string env = Env() + "export MAPPING_FILE=" + SnapMapping(prefix) + " BATCH_SIZE=100 && ";
    return RunCommand(env + DI_BINARY + " --mode setup", &setup_output_) == 0 ? env : "";
  }
  std::string setup_output_;  // SnapEnv's setup, for a failure message
  // A migrate (pausing 40 ms at each checkpoint) under writers running `transaction`
  // (RunUnderWrites, stack_env.h). The run's manifest key (empty, with the output in `out`,
  // when the run failed).
  std::string MigrateUnderWrites(const std::string& env, const std::string& transaction,
                                 std::string* out) {
    const int rc = RunUnderWrites(
        transaction, env + "DI_PAUSE_AFTER_CHECKPOINT_MS=40 " + DI_BINARY + " --mode migrate",
        "/tmp/" + s_ + "-writers.", out);
    const size_t at = out->find("s3://di-" + s_ + "/");
    if (rc != 0 || at == std::string::npos) return "";
    const size_t key_at = at + std::string("s3://di-/").size() + s_.size();
    return out->substr(key_at, out->find('\n', key_at) - key_at);
  }
  std::string s_ = UniqueName("ver");
};

TEST_F(VerifyTest, KilledMigrationsRerunToAnExactCopyAndTamperingIsFound) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  // SIGKILL at several points of a migration, each followed by nothing: the next run must
  // still end with an exact copy. The points are checkpoints (the process kills itself right
  // after its N-th), never a wall-clock delay a fast or slow machine could outrun; each run
  // resumes the last, and 1 + 2 + 3 is well under the run's 24 checkpoints at scale 1.
  for (const char* when : {"1", "2", "3"}) {
    int rc = RunCommand(
        Env() + "DI_CRASH_AFTER_CHECKPOINTS=" + when + " " + DI_BINARY + " --mode migrate", &out);
    EXPECT_EQ(rc, 137) << "killed after checkpoint " << when << ": " << out;  // 128 + SIGKILL
  }
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_EQ(out.find("MISMATCH"), std::string::npos) << out;
  EXPECT_NE(out.find("OK        postgresql.reservations: source 10000, dynamodb 10000, backup"),
            std::string::npos)
      << out;
  // Killed runs left no manifest: every manifest's parts exist and hash right (verify
  // checked the latest); no temporary object is listed as a backup.
  ASSERT_EQ(RunCommand(AwsCli() + "s3api list-multipart-uploads --bucket di-" + s_, &out), 0);

  // Tamper: one item gone, one changed in DynamoDB, one row changed in the source.
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb delete-item --table-name users-" + s_ +
                           " --key '{\"user_id\":{\"N\":\"42\"}}'",
                       &out),
            0)
      << out;
  ASSERT_EQ(
      RunCommand(
          AwsCli() + "dynamodb update-item --table-name users-" + s_ +
              " --key '{\"user_id\":{\"N\":\"43\"}}' --update-expression 'SET full_name = :n' "
              "--expression-attribute-values '{\":n\":{\"S\":\"changed\"}}'",
          &out),
      0)
      << out;
  PgPtr pg = ConnectPg();
  PQclear(PQexec(pg.get(), "UPDATE users SET loyalty_points = loyalty_points + 1 WHERE id = 44"));
  EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify --table users --table rooms", &out), 1)
      << out;
  EXPECT_NE(out.find("MISMATCH  postgresql.users: source 1000, dynamodb 999"), std::string::npos)
      << out;
  EXPECT_NE(out.find("missing in DynamoDB: 42"), std::string::npos) << out;
  EXPECT_NE(out.find("different in DynamoDB: 43"), std::string::npos) << out;
  EXPECT_NE(out.find("different in DynamoDB: 44"), std::string::npos) << out;
  EXPECT_NE(out.find("different in backup"), std::string::npos) << out;
  EXPECT_NE(out.find("OK        mysql.rooms"), std::string::npos) << out;
  EXPECT_EQ(out.find("reservations"), std::string::npos) << out;  // --table selects

  // A byte of the latest backup's part changed in S3: verify names the part, corrupted.
  const std::string part = "/tmp/" + s_ + "-part";
  ASSERT_EQ(RunCommand("k=$(" + AwsCli() + "s3api list-objects-v2 --bucket di-" + s_ +
                           " --prefix backups/mysql/rooms/ --query 'Contents[].Key' --output "
                           "text | tr '\\t' '\\n' | grep -v manifest | sort | tail -1) && " +
                           AwsCli() + "s3 cp s3://di-" + s_ + "/$k " + part + " && " +
                           "python3 -c \"import sys; b = bytearray(open(sys.argv[1], 'rb')" +
                           ".read()); b[len(b) // 2] ^= 32; open(sys.argv[1], 'wb').write(b)\" " +
                           part + " && " + AwsCli() + "s3 cp " + part + " s3://di-" + s_ + "/$k",
                       &out),
            0)
      << out;
  std::remove(part.c_str());
  EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify --table rooms", &out), 1) << out;
  EXPECT_NE(out.find("MISMATCH  mysql.rooms"), std::string::npos) << out;
  EXPECT_NE(out.find("does not match its sha256"), std::string::npos) << out;
}

TEST_F(VerifyTest, AKilledMigrationIsResumedFromItsLastCheckpoint) {
  std::string mapping = "/tmp/" + s_ + "-mapping.json";
  {
    std::ofstream(mapping) << R"({"tables": [
      {"source": "postgresql", "table": "users",
       "dynamodb": {"table": "users-)" +
                                  s_ + R"(", "key": {"user_id": "id"},
                    "indexes": [{"name": "email-index", "hash": "email"}]}},
      {"source": "mysql", "table": "rooms"}]})";
  }
  std::string env = Env() + "export MAPPING_FILE=" + mapping + " BATCH_SIZE=100 && ";
  std::string out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode setup", &out), 0) << out;
  // Killed right after its 4th checkpoint (400 users written and recorded).
  EXPECT_EQ(RunCommand(env + "DI_CRASH_AFTER_CHECKPOINTS=4 " + DI_BINARY + " --mode migrate", &out),
            137)
      << out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode migrate", &out), 0) << out;
  size_t at = out.find("[migrate] resuming run ");
  ASSERT_NE(at, std::string::npos) << out;
  std::string run_id = out.substr(at + 23, out.find(',', at) - at - 23);
  // Each target carries on from its own checkpoint: DynamoDB (durable a batch at a time)
  // after the 400 or more rows recorded before the kill, the backup (durable a part at a
  // time; its one part was not done) from the start, in a phase of the read of its own.
  const std::string dynamo = "dynamodb:users-" + s_ + " after ";
  at = out.find("postgresql.users: resuming: backup from the start, " + dynamo);
  ASSERT_NE(at, std::string::npos) << out;
  const long resumed_after =
      std::strtol(out.c_str() + out.find(dynamo, at) + dynamo.size(), nullptr, 10);
  EXPECT_GE(resumed_after, 400) << out;
  EXPECT_LT(resumed_after, 1000) << out;
  // The counts cover the whole table: those before the kill + the rest after.
  EXPECT_NE(out.find("postgresql.users -> users-" + s_ + ": 1000 items written"), std::string::npos)
      << out;
  EXPECT_NE(out.find("migrate " + run_id + ": SUCCESS"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode verify", &out), 0) << out;
  EXPECT_NE(out.find("OK        postgresql.users: source 1000, dynamodb 1000, backup " + run_id),
            std::string::npos)
      << out;
  // That run finished: the next migrate is a new one.
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_EQ(out.find("resuming"), std::string::npos) << out;
  std::remove(mapping.c_str());
}

// One read feeds both targets: while writers insert, update and delete rows of a table
// throughout its migrate, the run's backup and its DynamoDB items are the same snapshot,
// key for key and value for value (read back through boto3), though the live table has
// moved on from both; and the manifest records that snapshot's exact place in the WAL: the
// changes after it (read from a slot made before the run), replayed on the backup, give
// the live table.
TEST_F(VerifyTest, UnderContinuousWritesTheBackupAndTheItemsOfARunAreOneSnapshot) {
  const std::string table = SnapTable();
  PgPtr pg = ConnectPg();
  auto exec = [&](const std::string& sql) {
    PGresult* r = PQexec(pg.get(), sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(pg.get());
    PQclear(r);
  };
  exec("DROP TABLE IF EXISTS " + table);
  exec("CREATE TABLE " + table +
       " (id serial PRIMARY KEY, name text NOT NULL, n integer NOT NULL, updated_at "
       "timestamptz NOT NULL DEFAULT now())");
  exec("INSERT INTO " + table +
       " (name, n) SELECT md5(g::text), g FROM generate_series(1, 3000) g");
  const std::string env = SnapEnv("postgresql", table, "snap");
  ASSERT_FALSE(env.empty()) << setup_output_;
  std::string out;
  const std::string slot = "test_" + table;  // sees every change from here on
  exec("SELECT pg_create_logical_replication_slot('" + slot + "', 'test_decoding')");
  // Writers: an update, an insert and a delete in each transaction, through the whole run (it
  // pauses 40 ms at each of its 30 checkpoints).
  const std::string writer = "psql -X -q -h " + StackConfig().postgres.host + " -p " +
                             std::to_string(StackConfig().postgres.port) + " -U " +
                             StackConfig().postgres.user + " -d " +
                             StackConfig().postgres.database + " -c \"UPDATE " + table +
                             " SET name = md5(random()::text), n = n + 1, updated_at = now() "
                             "WHERE id = 1 + (random() * 2999)::int; INSERT INTO " +
                             table + " (name, n) VALUES ('new', 0); DELETE FROM " + table +
                             " WHERE id = 1 + (random() * 2999)::int;\"";
  const std::string manifest = MigrateUnderWrites(env, writer, &out);
  ASSERT_FALSE(manifest.empty()) << out;
  std::string cmp;
  ASSERT_EQ(RunCommand(Env() + VenvPython() + " " + DI_SOURCE_DIR +
                           "/tests/integration/compare_backup_items.py " +
                           StackConfig().aws.endpoint_url + " di-" + s_ + " " + manifest +
                           " snap-" + s_ + " id id",
                       &cmp),
            0)
      << cmp << out;
  EXPECT_EQ(cmp.rfind("OK ", 0), 0u) << cmp;
  EXPECT_EQ(RunCommand(Env() + VenvPython() + " " + DI_SOURCE_DIR +
                           "/tests/integration/check_snapshot_position.py " +
                           StackConfig().aws.endpoint_url + " di-" + s_ + " " + manifest + " " +
                           table + " " + slot,
                       &cmp),
            0)
      << cmp;
  exec("SELECT pg_drop_replication_slot('" + slot + "')");
  // The writers moved the table on during the run: the snapshot is no longer the table.
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode verify", &out), 1) << out;
  EXPECT_NE(out.find("MISMATCH  postgresql." + table), std::string::npos) << out;
  exec("DROP TABLE " + table);
  std::remove(SnapMapping("snap").c_str());
}

// The same on MariaDB: the backup and the items of one run are one snapshot (a transaction
// WITH CONSISTENT SNAPSHOT), and the manifest's binlog file, offset and GTID are its exact
// place: the binlog from there on (read by mariadb-binlog), replayed on the backup, gives
// the live table.
TEST_F(VerifyTest, OnMariaDbTheSnapshotOfARunIsRecordedAtItsExactBinlogPlace) {
  const std::string table = SnapTable();
  const std::string db = StackConfig().mysql.database;
  MariaDbOn(db, "DROP TABLE IF EXISTS " + table);
  MariaDbOn(db, "CREATE TABLE " + table +
                    " (id int AUTO_INCREMENT PRIMARY KEY, name varchar(64) NOT NULL, n int NOT "
                    "NULL, updated_at timestamp(6) NOT NULL DEFAULT current_timestamp(6))");
  MariaDbOn(db, "INSERT INTO " + table + " (name, n) SELECT md5(seq), seq FROM seq_1_to_3000");
  ASSERT_EQ(MariaDbOn(db, "SELECT COUNT(*) FROM " + table), "3000");
  const std::string env = SnapEnv("mysql", table, "snapm");
  ASSERT_FALSE(env.empty()) << setup_output_;
  std::string out;
  const auto& my = StackConfig().mysql;
  const std::string writer =
      "mariadb -h " + my.host + " -P " + std::to_string(my.port) + " -u " + my.user +
      " -p\"$MYSQL_PASSWORD\" " + db + " -e \"BEGIN; UPDATE " + table +
      " SET name = md5(rand()), n = n + 1 WHERE id = 1 + floor(rand() * 2999); INSERT INTO " +
      table + " (name, n) VALUES ('new', 0); DELETE FROM " + table +
      " WHERE id = 1 + floor(rand() * 2999); COMMIT;\"";
  const std::string manifest = MigrateUnderWrites(env, writer, &out);
  ASSERT_FALSE(manifest.empty()) << out;
  std::string cmp;
  const std::string checks = Env() + VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/";
  EXPECT_EQ(RunCommand(checks + "compare_backup_items.py " + StackConfig().aws.endpoint_url +
                           " di-" + s_ + " " + manifest + " snapm-" + s_ + " id id",
                       &cmp),
            0)
      << cmp << out;
  EXPECT_EQ(RunCommand(checks + "check_snapshot_position.py " + StackConfig().aws.endpoint_url +
                           " di-" + s_ + " " + manifest + " " + table + " -",
                       &cmp),
            0)
      << cmp;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode verify", &out), 1) << out;
  EXPECT_NE(out.find("MISMATCH  mysql." + table), std::string::npos) << out;
  MariaDbOn(db, "DROP TABLE " + table);
  std::remove(SnapMapping("snapm").c_str());
}

// On MongoDB (FerretDB keeps its oplog in local.oplog.rs, which the stack creates): the
// manifest records the oplog's place when the read began, and the collection's oplog entries
// after it, replayed on the backup, give the live collection (FerretDB's reads are not
// isolated, so the position is where replaying converges, not a snapshot's).
TEST_F(VerifyTest, OnMongoDbTheSnapshotOfARunIsRecordedAtItsOplogPlace) {
  const std::string coll = SnapTable();
  const std::string py =
      StackEnvShell() + VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/";
  std::string out, before;
  ASSERT_EQ(RunCommand(py + "mongo_writer.py seed " + coll + " 3000", &out), 0) << out;
  const std::string mapping = SnapMapping("snapg");
  std::ofstream(mapping) << R"({"tables": [{"source": "mongodb", "table": ")" + coll +
                                R"(", "dynamodb": {"table": "snapg-)" + s_ +
                                R"(", "key": {"id": "_id"}}}]})";
  const std::string env = Env() + "export MAPPING_FILE=" + mapping + " BATCH_SIZE=100 && ";
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode setup", &out), 0) << out;
  ASSERT_EQ(RunCommand(py + "mongo_writer.py now", &before), 0) << before;
  before = before.substr(0, before.find('\n'));
  // The writers run from before the migrate until after it, whatever the machine's speed.
  const std::string base = "/tmp/" + s_ + "-mongo.";
  for (const char* f : {"started", "stop", "done"}) std::remove((base + f).c_str());
  ASSERT_EQ(RunCommand("(" + py + "mongo_writer.py write " + coll + " " + base + "started " + base +
                           "stop " + base + "done) >/dev/null 2>&1 &",
                       &out),
            0);
  std::string ignored;
  for (int i = 0; i < 300 && RunCommand("test -e " + base + "started", &ignored) != 0; ++i)
    RunCommand("sleep 0.1", &ignored);
  const int rc =
      RunCommand(env + "DI_PAUSE_AFTER_CHECKPOINT_MS=40 " + DI_BINARY + " --mode migrate", &out);
  RunCommand("touch " + base + "stop", &ignored);
  for (int i = 0; i < 600 && RunCommand("test -e " + base + "done", &ignored) != 0; ++i)
    RunCommand("sleep 0.1", &ignored);
  ASSERT_EQ(rc, 0) << out;
  const size_t at = out.find("s3://di-" + s_ + "/");
  ASSERT_NE(at, std::string::npos) << out;
  const size_t key_at = at + std::string("s3://di-/").size() + s_.size();
  const std::string manifest = out.substr(key_at, out.find('\n', key_at) - key_at);
  std::string cmp;
  EXPECT_EQ(RunCommand(py + "check_mongo_snapshot.py " + StackConfig().aws.endpoint_url + " di-" +
                           s_ + " " + manifest + " " + coll + " " + before,
                       &cmp),
            0)
      << cmp << out;
  RunCommand(py + "mongo_writer.py drop " + coll, &ignored);
  for (const char* f : {"started", "stop", "done"}) std::remove((base + f).c_str());
  std::remove(mapping.c_str());
}

}  // namespace
}  // namespace di::testing
