// `--mode stream` against the stack's PostgreSQL, moto and a warehouse database: writers
// insert, update (also a row's key) and delete continuously through a migrate and then a
// stream; once the stream has confirmed past the last write, every target equals the source —
// `--mode verify` is clean (DynamoDB, and the backup with the change log replayed onto it),
// every item's embedded children are of one snapshot with it (boto3), the warehouse holds the
// source's rows, deleted ones gone — and SIGTERM ends the stream with exit 0.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "stack_env.h"

namespace di::testing {
namespace {

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Psql("postgres", "DROP DATABASE IF EXISTS " + wh_);
    ASSERT_EQ(Psql("postgres", "CREATE DATABASE " + wh_), "");
    Psql(db_, "DROP TABLE IF EXISTS " + plain_ + ", " + parent_ + ", " + child_);
    ASSERT_EQ(
        Psql(db_, "CREATE TABLE " + plain_ +
                      " (id bigint PRIMARY KEY, v int NOT NULL, note text, amount "
                      "numeric(12,2), meta jsonb, at timestamptz NOT NULL DEFAULT now()); "
                      "CREATE SEQUENCE " +
                      plain_ + "_seq START 1000; INSERT INTO " + plain_ +
                      " (id, v, note, amount, meta) SELECT g, 0, 'n' || g, g * 1.25, "
                      "jsonb_build_object('g', g) FROM generate_series(1, 500) g; "
                      "CREATE TABLE " +
                      parent_ + " (id int PRIMARY KEY, v int NOT NULL); CREATE TABLE " + child_ +
                      " (id serial PRIMARY KEY, parent_id int NOT NULL, v int NOT NULL); "
                      "CREATE INDEX ON " +
                      child_ + " (parent_id); INSERT INTO " + parent_ +
                      " SELECT g, 0 FROM generate_series(1, 200) g; INSERT INTO " + child_ +
                      " (parent_id, v) SELECT p, 0 FROM generate_series(1, 200) p, "
                      "generate_series(1, 3)"),
        "");
    std::ofstream(mapping_)
        << R"({"tables": [{"source": "postgresql", "table": ")" + plain_ +
               R"(", "dynamodb": {"table": "stu-)" + s_ +
               R"(", "key": {"id": "id"}}}, {"source": "postgresql", "table": ")" + parent_ +
               R"(", "dynamodb": {"table": "stp-)" + s_ +
               R"(", "key": {"id": "id"}, "embed": [{"table": ")" + child_ +
               R"(", "match": {"parent_id": "id"}, "as": "kids"}]}}, {"source": "postgresql", "table": ")" +
               child_ + R"("}]})";
  }
  void TearDown() override {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    Psql(db_,
         "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
         "slot_name = '" +
             slot_ + "'");
    Psql(db_, "DROP PUBLICATION IF EXISTS " + pub_ + "; DROP TABLE IF EXISTS " + plain_ + ", " +
                  parent_ + ", " + child_ + "; DROP SEQUENCE IF EXISTS " + plain_ + "_seq");
    Psql("postgres", "DROP DATABASE IF EXISTS " + wh_);
    std::remove(mapping_.c_str());
    std::remove(log_.c_str());
    StopWriters();
  }
  static std::string Psql(const std::string& db, const std::string& sql) { return PsqlOn(db, sql); }
  static std::string Name(const std::string& prefix, const std::string& s) {
    std::string t = prefix + "_" + s.substr(s.find('-') + 1);
    for (char& c : t)
      if (c == '-') c = '_';
    return t;
  }
  std::string Env() const {
    const Config& c = StackConfig();
    return StackEnvShell() + "export S3_BUCKET_NAME=di-" + s_ + " DYNAMODB_STATE_TABLE=state-" +
           s_ + " MAPPING_FILE=" + mapping_ + " STREAM_PUBLICATION=" + pub_ +
           " STREAM_SLOT=" + slot_ + " ANALYTICS_DATABASE_URL=postgresql://" + c.postgres.user +
           ":" + c.postgres.password + "@" + c.postgres.host + ":" +
           std::to_string(c.postgres.port) + "/" + wh_ +
           " WORKERS=2 BATCH_SIZE=100 RETRY_DELAY=0.2 && ";
  }
  // One writer transaction: parents get a new value with all their children; plain rows are
  // inserted, updated, deleted and one moved to another key; children inserted and deleted;
  // now and then a parent deleted with its children.
  std::string Writer() const {
    const auto& pg = StackConfig().postgres;
    const std::string p = parent_, c = child_, u = plain_;
    return "psql -X -q -h " + pg.host + " -p " + std::to_string(pg.port) + " -U " + pg.user +
           " -d " + pg.database + " -c \"WITH p AS (UPDATE " + p +
           " SET v = v + 1 WHERE id IN (SELECT 1 + (random() * 199)::int FROM generate_series(1, "
           "3)) RETURNING id, v) UPDATE " +
           c + " c SET v = p.v FROM p WHERE c.parent_id = p.id; INSERT INTO " + c +
           " (parent_id, v) SELECT id, v FROM " + p +
           " WHERE id = 1 + (random() * 199)::int; "
           "DELETE FROM " +
           c + " WHERE id = (SELECT min(id) FROM " + c +
           " WHERE parent_id = 1 + (random() * 199)::int); WITH d AS (DELETE FROM " + p +
           " WHERE id = 1 + (random() * 199)::int AND random() < 0.1 RETURNING id) DELETE FROM " +
           c + " WHERE parent_id IN (SELECT id FROM d); INSERT INTO " + u +
           " (id, v, note, amount, meta) VALUES (nextval('" + u +
           "_seq'), 1, 'new', 9.99, '{\\\"new\\\": true}'); UPDATE " + u +
           " SET v = v + 1, note = md5(random()::text), amount = amount + 0.01, at = now() WHERE "
           "id = 1 + (random() * 499)::int; DELETE FROM " +
           u + " WHERE id = 1 + (random() * 499)::int; UPDATE " + u +
           " SET id = id + 1000000 WHERE id = 1 + (random() * 499)::int\"";
  }
  // The stream started in the background; its pid in pid_.
  void StartStream() {
    const std::string pidfile = "/tmp/" + s_ + "-stream.pid";
    std::string out;
    ASSERT_EQ(RunCommand(Env() + "(" + DI_BINARY + " --mode stream >>" + log_ +
                             " 2>&1 & echo $! >" + pidfile + ")",
                         &out),
              0)
        << out;
    std::ifstream(pidfile) >> pid_;
    std::remove(pidfile.c_str());
    ASSERT_GT(pid_, 0);
  }
  // A writer going on in the background until StopWriters (one: its transactions keep each
  // parent's children at its value), a line in markers_ + "count" per transaction.
  void StartWriters() {
    std::string out;
    for (const char* f : {"stop", "done", "count"}) std::remove((markers_ + f).c_str());
    writing_ = true;
    ASSERT_EQ(
        RunCommand(StackEnvShell() + "export PGPASSWORD=\"$POSTGRES_PASSWORD\" && (while [ ! -e " +
                       markers_ + "stop ]; do " + Writer() + "; echo >>" + markers_ +
                       "count; done; touch " + markers_ + "done) >/dev/null 2>&1 &",
                   &out),
        0)
        << out;
  }
  // Until the writer has committed `n` more transactions.
  void WaitForWrites(int n) {
    std::string out;
    RunCommand("c=$(cat " + markers_ + "count 2>/dev/null | wc -l); for i in $(seq 1200); do [ " +
                   "$(cat " + markers_ + "count 2>/dev/null | wc -l) -ge $((c + " +
                   std::to_string(n) + ")) ] && exit 0; sleep 0.1; done; exit 1",
               &out);
  }
  void StopWriters() {
    if (!writing_) return;
    writing_ = false;
    std::string out;
    RunCommand("touch " + markers_ + "stop; for i in $(seq 300); do [ -e " + markers_ +
                   "done ] && exit 0; sleep 0.1; done; exit 1",
               &out);
  }
  // A last transaction, then waits until the slot is confirmed up to the WAL's end after it
  // (the stream confirms what it has applied, and, idle, the end the server reports). The end
  // is the insert position: with the stack's synchronous_commit=off, pg_current_wal_lsn() (the
  // write position) can still be short of the commit just made.
  void CatchUp() {
    Psql(db_,
         "UPDATE " + plain_ + " SET v = v + 1 WHERE id = (SELECT min(id) FROM " + plain_ + ")");
    const std::string after = Psql(db_, "SELECT pg_current_wal_insert_lsn()");
    std::string confirmed, out, log;
    for (int i = 0; i < 600; ++i) {
      confirmed = Psql(db_, "SELECT confirmed_flush_lsn >= '" + after +
                                "' FROM pg_replication_slots WHERE slot_name = '" + slot_ + "'");
      if (confirmed == "t") break;
      RunCommand("sleep 0.1", &out);
    }
    RunCommand("cat " + log_, &log);
    ASSERT_EQ(confirmed, "t") << log;
  }
  // SIGTERM ends the process (pid_); its exit code, -1 when it did not end within two minutes
  // (a limit for a hung process only: it ends as soon as it has confirmed what it applied).
  int Terminate() {
    std::string out;
    if (::kill(pid_, SIGTERM) != 0) return -1;
    int status = 0;
    for (int i = 0; i < 1200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // (not our child when started through a shell: then only its disappearance tells)
      if (::kill(pid_, 0) != 0) {
        pid_ = 0;
        return 0;
      }
      RunCommand("sleep 0.1", &out);
    }
    return -1;
  }
  // CatchUp, then SIGTERM ends the stream, which must say it stopped with everything confirmed.
  void CatchUpAndStop() {
    ASSERT_NO_FATAL_FAILURE(CatchUp());
    EXPECT_EQ(Terminate(), 0);
    std::string log;
    RunCommand("cat " + log_, &log);
    EXPECT_NE(log.find("stopped; everything applied is confirmed"), std::string::npos) << log;
  }
  // A TCP proxy from `listen` to `target` (tests/integration/tcp_proxy.py), until StopProxy.
  void Proxy(int listen, int target) {
    const std::string pidfile = "/tmp/" + s_ + "-proxy-" + std::to_string(listen);
    std::string out;
    RunCommand("(" + VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/tcp_proxy.py " +
                   std::to_string(listen) + " " + std::to_string(target) +
                   " >/dev/null 2>&1 & echo $! >" + pidfile + ")",
               &out);
    // Ready once it accepts a connection (curl's 7: refused).
    RunCommand("for i in $(seq 100); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:" +
                   std::to_string(listen) + "/; [ $? -ne 7 ] && exit 0; sleep 0.1; done; exit 1",
               &out);
  }
  void StopProxy(int listen) {
    const std::string pidfile = "/tmp/" + s_ + "-proxy-" + std::to_string(listen);
    std::string out;
    RunCommand("[ -f " + pidfile + " ] && kill -9 $(cat " + pidfile + ") && rm -f " + pidfile,
               &out);
  }
  // How many lines of the stream's log hold `what`.
  std::string Count(const std::string& what) {
    std::string out;
    RunCommand("grep -c '" + what + "' " + log_ + " || true", &out);
    return out;
  }
  // verify (DynamoDB, and the backup + change log), the embedded children (boto3) and the
  // warehouse against the source.
  void ExpectTargetsEqualTheSource() {
    std::string out, log;
    RunCommand("cat " + log_, &log);
    EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &out), 0) << out << log;
    EXPECT_NE(out.find("+ change log"), std::string::npos) << out;
    EXPECT_EQ(RunCommand(StackEnvShell() + VenvPython() + " " + DI_SOURCE_DIR +
                             "/tests/integration/check_embedded.py " +
                             StackConfig().aws.endpoint_url + " stp-" + s_ + " kids v",
                         &out),
              0)
        << out;
    const std::string rows =
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, v, note, amount, meta), ',' "
        "ORDER BY id)) FROM ";
    EXPECT_EQ(Psql(wh_, rows + "postgresql." + plain_), Psql(db_, rows + plain_));
    const std::string kids =
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, "
        "parent_id, v), ',' ORDER BY id)) FROM ";
    EXPECT_EQ(Psql(wh_, kids + "postgresql." + child_), Psql(db_, kids + child_));
    EXPECT_NE(Psql(db_, "SELECT count(*) FROM " + plain_ + " WHERE id <= 500"), "500");  // deletes
  }
  const std::string s_ = UniqueName("st");
  const std::string db_ = StackConfig().postgres.database;
  const std::string plain_ = Name("stu", s_), parent_ = Name("stp", s_), child_ = Name("stc", s_);
  const std::string pub_ = Name("pub", s_), slot_ = Name("slot", s_), wh_ = Name("di_wh", s_);
  const std::string mapping_ = "/tmp/" + s_ + "-mapping.json";
  const std::string log_ = "/tmp/" + s_ + "-stream.log";
  const std::string markers_ = "/tmp/" + s_ + "-writers.";
  int pid_ = 0;
  bool writing_ = false;
};

TEST_F(StreamTest, WritesThroughAMigrateAndAStreamLeaveEveryTargetEqualToTheSource) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  EXPECT_NE(
      out.find("replica identity of " + child_ + " (its deletes carry parent_id): set to FULL"),
      std::string::npos)
      << out;
  // The migrate under writers, which go on while the stream starts and runs.
  ASSERT_EQ(
      RunUnderWrites(Writer(),
                     Env() + "DI_PAUSE_AFTER_CHECKPOINT_MS=20 " + DI_BINARY + " --mode migrate",
                     markers_, &out),
      0)
      << out;
  StartWriters();
  StartStream();
  WaitForWrites(30);  // while it runs
  StopWriters();
  CatchUpAndStop();
  ExpectTargetsEqualTheSource();
}

// 20 SIGKILLs of the stream under continuous writes, at defined points of its batches — after
// each sink applied a batch and after its place was confirmed — each followed by a restart:
// nothing lost, nothing applied twice or out of order.
TEST_F(StreamTest, KilledTwentyTimesUnderWritesItLosesNothing) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  StartWriters();
  const char* points[] = {"changelog", "dynamodb", "warehouse", "confirmed"};
  for (int k = 0; k < 20; ++k) {
    WaitForWrites(2);  // changes for the next start to find
    const std::string at = std::to_string(1 + k % 3) + ":" + points[k % 4];
    const int rc = RunCommand(
        Env() + "DI_STREAM_CRASH_AT=" + at + " " + DI_BINARY + " --mode stream >>" + log_ + " 2>&1",
        &out);
    std::string log;
    RunCommand("tail -n 20 " + log_, &log);
    ASSERT_EQ(rc, 137) << "kill " << k << " at " << at << ": " << log;  // 128 + SIGKILL
  }
  StopWriters();
  StartStream();
  CatchUpAndStop();
  ExpectTargetsEqualTheSource();
}

// With no migrate before it, the stream takes its own snapshot (a migrate of its tables
// inside a snapshot a slot exported) under writes, then follows from there; --catch-up stops
// it, exit 0, once everything committed before it started is applied. A second --catch-up
// after the writers stopped leaves every target equal to the source.
TEST_F(StreamTest, WithoutAMigrateItTakesItsOwnSnapshotAndCatchUpStopsIt) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  StartWriters();
  WaitForWrites(5);  // changes committed after the slot, before the snapshot
  const std::string catch_up = Env() + DI_BINARY + " --mode stream --catch-up >>" + log_ + " 2>&1";
  std::string log;
  const int first = RunCommand(catch_up, &out);
  RunCommand("cat " + log_, &log);
  ASSERT_EQ(first, 0) << log;
  EXPECT_NE(log.find("no snapshot recorded for postgresql." + plain_), std::string::npos) << log;
  EXPECT_NE(log.find("caught up; everything applied is confirmed"), std::string::npos) << log;
  StopWriters();
  ASSERT_EQ(RunCommand(catch_up, &out), 0) << out;
  RunCommand("cat " + log_, &log);
  EXPECT_EQ(Count("taking one first"), "1\n") << log;  // the second run had its snapshot
  ExpectTargetsEqualTheSource();
}

// The stream inside the API: `--mode api --with-stream` runs it; GET /stream, /metrics and
// /health report it; POST /stream/stop and /stream/start steer it (409 while it runs); SIGTERM
// stops it with everything confirmed, and the targets equal the source.
TEST_F(StreamTest, TheApiRunsReportsStopsAndStartsTheStream) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  const std::string port = std::to_string(23000 + ::getpid() % 2000);
  const std::string url = "http://127.0.0.1:" + port;
  const std::string pidfile = "/tmp/" + s_ + "-api.pid";
  ASSERT_EQ(RunCommand(Env() + "(" + DI_BINARY + " --mode api --with-stream --port " + port +
                           " >>" + log_ + " 2>&1 & echo $! >" + pidfile + ")",
                       &out),
            0);
  std::ifstream(pidfile) >> pid_;
  std::remove(pidfile.c_str());
  auto curl = [&](const std::string& args) {
    std::string body;
    RunCommand("curl -s --max-time 10 " + args, &body);
    return body;
  };
  auto state = [&] {
    auto j = nlohmann::json::parse(curl(url + "/stream"), nullptr, false);
    return j.is_object() ? j.value("state", std::string()) : std::string();
  };
  for (int i = 0; i < 1200 && state() != "running"; ++i) RunCommand("sleep 0.1", &out);
  ASSERT_EQ(state(), "running") << curl(url + "/stream");
  StartWriters();
  WaitForWrites(10);
  StopWriters();
  ASSERT_NO_FATAL_FAILURE(CatchUp());
  auto stream = nlohmann::json::parse(curl(url + "/stream"), nullptr, false);
  ASSERT_TRUE(stream.is_object());
  EXPECT_GT(stream["changes"].get<int64_t>(), 10) << stream.dump();
  EXPECT_GE(stream["tables"]["postgresql." + plain_]["insert"].get<int64_t>(), 10) << stream.dump();
  EXPECT_NE(curl(url + "/metrics")
                .find("di_stream_changes_total{table=\"postgresql." + plain_ + "\",op=\"insert\"}"),
            std::string::npos);
  auto health = nlohmann::json::parse(curl(url + "/health"), nullptr, false);
  EXPECT_EQ(health["dependencies"]["stream"]["status"], "up") << health.dump();
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' -X POST " + url + "/stream/start"), "409");
  auto stopped = nlohmann::json::parse(curl("-X POST " + url + "/stream/stop"), nullptr, false);
  EXPECT_EQ(stopped["was_running"], true) << stopped.dump();
  EXPECT_EQ(stopped["state"], "stopped") << stopped.dump();
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' -X POST " + url + "/stream/start"), "202");
  ASSERT_NO_FATAL_FAILURE(CatchUp());
  EXPECT_EQ(Terminate(), 0);
  std::string log;
  RunCommand("cat " + log_, &log);
  EXPECT_NE(log.find("stream stopped; everything applied is confirmed"), std::string::npos) << log;
  ExpectTargetsEqualTheSource();
}

// A target that goes away pauses the stream: moto and then the warehouse are cut off (a TCP
// proxy in front of each, killed) while writers go on; the stream says it paused and how much
// WAL the slot holds, the slot does not move past what was applied, and once the target is back
// it catches up with nothing lost.
TEST_F(StreamTest, ATargetThatGoesAwayPausesTheStreamAndItCatchesUp) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  const Config& c = StackConfig();
  const int moto = 24000 + ::getpid() % 1000 * 2, warehouse = moto + 1;
  const std::string moto_port = c.aws.endpoint_url.substr(c.aws.endpoint_url.rfind(':') + 1);
  Proxy(moto, std::stoi(moto_port));
  Proxy(warehouse, c.postgres.port);
  const std::string through = "AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(moto) +
                              " ANALYTICS_DATABASE_URL=postgresql://" + c.postgres.user + ":" +
                              c.postgres.password + "@127.0.0.1:" + std::to_string(warehouse) +
                              "/" + wh_ + " ";
  const std::string pidfile = "/tmp/" + s_ + "-stream.pid";
  ASSERT_EQ(RunCommand(Env() + "(" + through + DI_BINARY + " --mode stream >>" + log_ +
                           " 2>&1 & echo $! >" + pidfile + ")",
                       &out),
            0);
  std::ifstream(pidfile) >> pid_;
  std::remove(pidfile.c_str());
  StartWriters();
  for (int target : {moto, warehouse}) {
    WaitForWrites(5);
    const std::string paused_before = Count("stream paused");
    StopProxy(target);
    WaitForWrites(10);  // written while the target is away
    for (int i = 0; i < 300 && Count("stream paused") == paused_before; ++i)
      RunCommand("sleep 0.1", &out);
    EXPECT_NE(Count("stream paused"), paused_before) << "no pause with " << target << " away";
    std::string log;
    RunCommand("grep 'stream paused' " + log_ + " | tail -n 1", &log);  // one line each
    EXPECT_NE(log.find("bytes of WAL"), std::string::npos) << log;
    Proxy(target, target == moto ? std::stoi(moto_port) : c.postgres.port);
  }
  StopWriters();
  CatchUpAndStop();
  ExpectTargetsEqualTheSource();
  for (int p : {moto, warehouse}) StopProxy(p);
}

// Values the source does not send and columns added or dropped while the stream runs: an
// update that leaves a TOASTed text as it is keeps it in the warehouse and in DynamoDB; rows
// written after ADD COLUMN and after DROP COLUMN reach both with their columns.
TEST_F(StreamTest, UnsentValuesAndColumnsAddedOrDroppedLoseNothing) {
  std::string out;
  // Texts of ~9.6 kB of random hex: stored out of line (TOAST), sent only when they change.
  Psql(db_, "UPDATE " + plain_ +
                " SET note = (SELECT string_agg(md5(random()::text || g), '') FROM "
                "generate_series(1, 300) g WHERE g > id - id) WHERE id <= 5");
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  StartStream();
  Psql(db_, "UPDATE " + plain_ + " SET v = v + 100 WHERE id <= 5");  // note not sent
  Psql(db_, "ALTER TABLE " + plain_ + " ADD COLUMN extra int DEFAULT 7; INSERT INTO " + plain_ +
                " (id, v, extra) VALUES (900001, 1, 42); UPDATE " + plain_ +
                " SET extra = 9 WHERE id = 6");
  Psql(db_, "ALTER TABLE " + plain_ + " DROP COLUMN amount; INSERT INTO " + plain_ +
                " (id, v, extra) VALUES (900002, 2, 43); UPDATE " + plain_ +
                " SET v = 77 WHERE id = 7; UPDATE " + plain_ + " SET v = v + 1 WHERE id <= 5");
  CatchUpAndStop();
  // Every row, with its long text; the added column on the rows written since it was added
  // (a column's DEFAULT reaches no row the source did not change: README, Change capture).
  const std::string rows =
      "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, v, md5(note), CASE WHEN id "
      "<= 7 OR id > 900000 THEN extra END), ',' ORDER BY id)) FROM ";
  EXPECT_EQ(Psql(wh_, rows + "postgresql." + plain_), Psql(db_, rows + plain_));
  // DynamoDB, read back through boto3: the long texts kept, the new column's values there.
  const std::string want =
      Psql(db_,
           "SELECT string_agg(id || ':' || v || ':' || md5(coalesce(note, '')) || "
           "':' || coalesce(extra::text, '-'), ',' ORDER BY id) FROM " +
               plain_ + " WHERE id <= 7 OR id > 900000");
  const std::string script =
      "import boto3, hashlib, sys\n"
      "d = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-east-1', "
      "aws_access_key_id='testing', aws_secret_access_key='testing')\n"
      "out = []\n"
      "for i in [1, 2, 3, 4, 5, 6, 7, 900001, 900002]:\n"
      "    it = d.get_item(TableName=sys.argv[2], Key={'id': {'N': str(i)}})['Item']\n"
      "    note = it.get('note', {}).get('S', '')\n"
      "    extra = it.get('extra', {}).get('N', '-')\n"
      "    out.append(f\"{i}:{it['v']['N']}:{hashlib.md5(note.encode()).hexdigest()}:{extra}\")\n"
      "print(','.join(out))\n";
  const std::string file = "/tmp/" + s_ + "-items.py";
  std::ofstream(file) << script;
  EXPECT_EQ(
      RunCommand(VenvPython() + " " + file + " " + StackConfig().aws.endpoint_url + " stu-" + s_,
                 &out),
      0)
      << out;
  std::remove(file.c_str());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  EXPECT_EQ(out, want);
  // The texts were not sent (the change log says so), so this tested what it means to.
  const std::string dir = "/tmp/" + s_ + "-changes";
  RunCommand(AwsCli() + "s3 cp --recursive --quiet s3://di-" + s_ + "/backups/postgresql/" +
                 plain_ + "/changes/ " + dir + " && zcat " + dir +
                 "/* | grep -c '\"unchanged\":\\[\"note\"\\]'; rm -rf " + dir,
             &out);
  EXPECT_GE(std::atoi(out.c_str()), 5) << out;  // the first update's five, at least
}

// A mapping's primary_key is the stream's key too: a table keyed by `code` in PostgreSQL,
// mapped by `id`. Its deletes carry `id` only with REPLICA IDENTITY FULL: until then the stream
// refuses its deletes and updates with that fix, and once it is made (and the table copied
// again) deletes, updates and key changes reach DynamoDB by `id`.
TEST_F(StreamTest, TheMappingsPrimaryKeyIsTheStreamsKey) {
  std::string out, log;
  const std::string t = Name("stk", s_);
  ASSERT_EQ(Psql(db_, "CREATE TABLE " + t +
                          " (code text PRIMARY KEY, id bigint NOT NULL UNIQUE, v int NOT NULL); "
                          "INSERT INTO " +
                          t + " SELECT 'c' || g, g, 0 FROM generate_series(1, 20) g"),
            "");
  std::ofstream(mapping_) << R"({"tables": [{"source": "postgresql", "table": ")" + t +
                                 R"(", "primary_key": ["id"], "dynamodb": {"table": "stk-)" + s_ +
                                 R"(", "key": {"id": "id"}}}]})";
  const std::string catch_up = Env() + DI_BINARY + " --mode stream --catch-up >>" + log_ + " 2>&1";
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  Psql(db_, "UPDATE " + t + " SET v = 1 WHERE id = 1");
  EXPECT_NE(RunCommand(catch_up, &out), 0);
  RunCommand("cat " + log_, &log);
  EXPECT_NE(log.find("is not in its replica identity"), std::string::npos) << log;
  EXPECT_NE(log.find("ALTER TABLE " + t + " REPLICA IDENTITY FULL"), std::string::npos) << log;

  Psql(db_, "ALTER TABLE " + t + " REPLICA IDENTITY FULL");
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  Psql(db_, "DELETE FROM " + t + " WHERE id = 3; UPDATE " + t +
                " SET v = 99 WHERE id = 4; UPDATE " + t + " SET id = 5005 WHERE id = 5");
  RunCommand(catch_up, &out);
  RunCommand("cat " + log_, &log);
  ASSERT_NE(log.find("caught up; everything applied is confirmed"), std::string::npos) << log;
  auto item = [&](int id) {
    std::string got;
    RunCommand(AwsCli() + "dynamodb get-item --table-name stk-" + s_ +
                   " --key '{\"id\": {\"N\": \"" + std::to_string(id) +
                   "\"}}' --query Item.v.N --output text",
               &got);
    while (!got.empty() && got.back() == '\n') got.pop_back();
    return got;
  };
  EXPECT_EQ(item(1), "1");  // the second migrate's
  EXPECT_EQ(item(3), "None");
  EXPECT_EQ(item(4), "99");
  EXPECT_EQ(item(5), "None");
  EXPECT_EQ(item(5005), "0");
  Psql(db_, "DROP TABLE " + t);
}

// TRUNCATE is a change like the others: a parent's embedded children all go (and the ones
// inserted after come), a table emptied and written again in one transaction ends as the
// source has it in DynamoDB, the warehouse and the change log (verify replays it).
TEST_F(StreamTest, ATruncateReachesEveryTarget) {
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup --with-stream", &out), 0) << out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  StartStream();
  Psql(db_, "TRUNCATE " + child_ + "; INSERT INTO " + child_ +
                " (parent_id, v) SELECT id, v FROM " + parent_ + " WHERE id <= 10");
  Psql(db_, "BEGIN; UPDATE " + plain_ + " SET v = 5 WHERE id = 1; TRUNCATE " + plain_ +
                "; INSERT INTO " + plain_ +
                " (id, v, note) VALUES (1, 1, 'again'), (2000, 2, 'new'); "
                "COMMIT");
  CatchUpAndStop();
  ExpectTargetsEqualTheSource();
  EXPECT_EQ(RunCommand(StackEnvShell() + VenvPython() + " " + DI_SOURCE_DIR +
                           "/tests/integration/check_embedded.py " +
                           StackConfig().aws.endpoint_url + " stp-" + s_ + " kids v",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("OK 200 items, 10 children"), std::string::npos) << out;
  EXPECT_EQ(Psql(db_, "SELECT count(*) FROM " + plain_), "2");
  const std::string dir = "/tmp/" + s_ + "-changes";
  RunCommand(AwsCli() + "s3 cp --recursive --quiet s3://di-" + s_ + "/backups/postgresql/" +
                 plain_ + "/changes/ " + dir + " && zcat " + dir +
                 "/* | grep -c '\"op\":\"truncate\"'; rm -rf " + dir,
             &out);
  EXPECT_EQ(out, "1\n");
}

}  // namespace
}  // namespace di::testing
