// Dropped source connections (sources/resuming_read.h): a backup, a migrate and a sync of a
// table big enough to be mid-read when its session is ended — PostgreSQL's
// pg_terminate_backend, MariaDB's KILL CONNECTION, a FerretDB restart — reconnect and carry
// on from the last row read: the run succeeds, says it reconnected, and verify finds the
// targets equal to the source (counts exact, nothing twice). To end the session at a known
// point, the process is frozen (SIGSTOP) while its read is seen in progress on the server,
// the session is ended, and the process thawed.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "child_process.h"
#include "stack_env.h"

namespace di::testing {
namespace {

// How a test reaches one engine: the table made, its read found on the server, ended.
struct EngineOps {
  std::string source;      // the mapping's "source"
  std::string key = "id";  // the key column (field)
  // `rows` rows of `width` x 32 characters of text each.
  std::function<void(const std::string& table, int rows, int width)> create;
  std::function<void(const std::string& table)> drop;
  // The session reading (a non-empty id) while a read is in progress on the server: its
  // query still running (MariaDB: not all sent yet), its cursor open (PostgreSQL), or the run
  // saying it has read some of `rows`, two batches short at least (MongoDB, whose cursors FerretDB
  // does not show).
  std::function<std::string(const std::string& table, const std::string& output, int rows)> reading;
  std::function<void(const std::string& id)> end;
};

std::string Pg(const std::string& sql) {
  return PsqlOn(StackConfig().postgres.database, sql);
}
std::string Maria(const std::string& sql) {
  return MariaDbOn(StackConfig().mysql.database, sql);
}

EngineOps PostgresOps() {
  EngineOps e;
  e.source = "postgresql";
  e.create = [](const std::string& t, int rows, int width) {
    Pg("CREATE TABLE " + t +
       " (id bigint PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT "
       "now()); INSERT INTO " +
       t + " SELECT g, repeat(md5(g::text), " + std::to_string(width) +
       ") FROM generate_series(1, " + std::to_string(rows) + ") g");
  };
  e.drop = [](const std::string& t) { Pg("DROP TABLE IF EXISTS " + t); };
  // A COPY still sending, or a cursor's transaction still open (a read by key).
  e.reading = [](const std::string& t, const std::string&, int) {
    return Pg(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'data-ingestion' AND "
        "backend_type = 'client backend' AND state IN ('active', 'idle in transaction') AND "
        "(query LIKE 'FETCH %' OR query LIKE 'COPY %" +
        t + "%') LIMIT 1");
  };
  e.end = [](const std::string& pid) { Pg("SELECT pg_terminate_backend(" + pid + ")"); };
  return e;
}

EngineOps MariaDbOps() {
  EngineOps e;
  e.source = "mysql";
  e.create = [](const std::string& t, int rows, int width) {
    Maria("CREATE TABLE " + t +
          " (id BIGINT PRIMARY KEY, v TEXT NOT NULL, updated_at DATETIME(6) NOT NULL "
          "DEFAULT CURRENT_TIMESTAMP(6)); INSERT INTO " +
          t + " (id, v) SELECT seq, REPEAT(MD5(seq), " + std::to_string(width) +
          ") FROM seq_1_to_" + std::to_string(rows));
  };
  e.drop = [](const std::string& t) { Maria("DROP TABLE IF EXISTS " + t); };
  e.reading = [](const std::string& t, const std::string&, int) {
    return Maria(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO "
        "LIKE CONCAT('SELECT %FROM ', CHAR(96), '" +  // (a backquote, which the shell would eat)
        t +
        "', CHAR(96), '%') LIMIT 1");
  };
  e.end = [](const std::string& id) { Maria("KILL CONNECTION " + id); };
  return e;
}

// Rows of ~200 bytes: 200,000 of them (40 MB) are more than the socket buffers hold, so a read
// frozen early is still in progress on the server.
constexpr int kBig = 200000, kRows = 6;
// A sync writes each row to DynamoDB (moto), which is slower: 10,000 rows of ~2 kB.
constexpr int kSynced = 10000, kWideRows = 60;
// Parents of a lookups test, 500 to a batch, each with two children.
constexpr int kLookupParents = 5000;

// The rows of the last progress line of `table` in a run's output ("<engine>.<table>: 500 of
// ~100000 rows", "<engine>.<table>: 8500 rows, ..."); -1 before the first.
int64_t RowsSaid(const std::string& output, const std::string& name) {
  const size_t at = output.rfind(name + ": ");
  if (at == std::string::npos) return -1;
  const char* p = output.c_str() + at + name.size() + 2;
  return std::isdigit(static_cast<unsigned char>(*p)) ? std::strtoll(p, nullptr, 10) : -1;
}

std::string Mongo(const std::string& python) {
  std::string out;
  RunCommand(VenvPython() + " -c \"import pymongo; db = pymongo.MongoClient('" +
                 StackConfig().mongo.uri + "')['" + StackConfig().mongo.database + "']; " + python +
                 "\"",
             &out);
  return out;
}

EngineOps FerretDbOps() {
  EngineOps e;
  e.source = "mongodb";
  e.key = "_id";
  e.create = [](const std::string& t, int rows, int width) {
    Mongo("db['" + t + "'].insert_many([{'_id': i, 'v': 'x' * " + std::to_string(width * 32) +
          "} for i in range(1, " + std::to_string(rows + 1) + ")], ordered=False)");
  };
  e.drop = [](const std::string& t) { Mongo("db['" + t + "'].drop()"); };
  e.reading = [](const std::string& t, const std::string& output, int rows) -> std::string {
    const int64_t said = RowsSaid(output, "mongodb." + t);
    // Two batches (BATCH_SIZE 500) short of the end at least: a getMore still to come.
    return said > 0 && said < rows - 1000 ? "ferretdb" : "";
  };
  // FerretDB stopped and started again: every connection and cursor of it gone.
  e.end = [](const std::string&) {
    std::string out;
    const std::string stack = std::string(DI_SOURCE_DIR) + "/scripts/stack";
    EXPECT_EQ(RunCommand(stack + " down ferretdb && " + stack + " up ferretdb", &out), 0) << out;
  };
  return e;
}

class ReconnectTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (ops_.drop) ops_.drop(table_);
    std::remove(mapping_.c_str());
  }

  // The table (`rows` rows), a mapping of it alone (to DynamoDB with `dynamodb`, else backed
  // up only) and the bucket and tables for it.
  void Make(EngineOps ops, int rows, bool dynamodb) {
    ops_ = std::move(ops);
    ops_.create(table_, rows, dynamodb ? kWideRows : kRows);
    rows_ = rows;
    std::ofstream(mapping_) << R"({"tables": [{"source": ")" << ops_.source << R"(", "table": ")"
                            << table_ << R"(", )"
                            << (dynamodb ? R"("backup": false, "dynamodb": {"table": "rc-)" + s_ +
                                               R"(", "key": {"id": ")" + ops_.key + R"("}}}]})"
                                         : R"("backup": true}]})");
    std::string out;
    ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  }

  std::string Env() const { return StackEnvShell() + Vars(); }
  std::string Vars() const {
    return "env MAPPING_FILE=" + mapping_ + " S3_BUCKET_NAME=di-" + s_ +
           " DYNAMODB_STATE_TABLE=state-" + s_ +
           " RETRY_DELAY=1 MAX_RETRIES=" + std::to_string(retries_) + " BATCH_SIZE=500 WORKERS=1 " +
           extra_;
  }

  // `mode` run with its read's session ended in mid-read: it reconnects and succeeds, and
  // verify is clean.
  void EndTheSessionInMidRead(const std::string& mode, const std::string& also_said = "") {
    ChildProcess run(StackEnvShell() + "exec " + Vars() + DI_BINARY + " --mode " + mode);
    std::string id;
    auto reading = [&] { return ops_.reading(table_, run.Output(), rows_); };
    ASSERT_TRUE(WaitUntil([&] { return !(id = reading()).empty(); }, [&] { return run.Running(); }))
        << "its read was never seen on the server: " << run.Output();
    run.Signal(SIGSTOP);
    id = reading();
    if (!id.empty()) ops_.end(id);
    run.Signal(SIGCONT);
    ASSERT_FALSE(id.empty()) << "the read ended before the process was frozen";
    EXPECT_EQ(run.Wait(), 0) << run.Output();
    const std::string out = run.Output();
    EXPECT_NE(out.find("connection lost reading table '" + table_ + "'"), std::string::npos) << out;
    EXPECT_NE(out.find("reconnected: table '" + table_ + "' carries on after its first "),
              std::string::npos)
        << out;
    if (!also_said.empty()) {
      EXPECT_NE(out.find(also_said), std::string::npos) << out;
    }
    std::string verify;
    EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &verify), 0) << verify;
    EXPECT_NE(verify.find(std::to_string(rows_)), std::string::npos) << verify;
  }

  std::string s_ = UniqueName("rc");  // "rc-<pid>-<n>": bucket and DynamoDB tables
  std::string table_ = [this] {       // "rc_<pid>_<n>"
    std::string n = s_;
    for (char& c : n)
      if (c == '-') c = '_';
    return n;
  }();
  std::string mapping_ = "/tmp/" + s_ + "-mapping.json";
  EngineOps ops_;
  int rows_ = 0;
  int retries_ = 5;
  std::string extra_;  // more of the runs' environment
};

// moto behind a TCP proxy (tests/integration/tcp_proxy.py): stopping the proxy is AWS gone for
// the runs (connections reset, new ones refused) and starting it again on the same port is AWS
// back, its data intact — what a real outage is (a restarted moto would come back empty,
// which AWS never does).
class MotoOutageTest : public ReconnectTest {
 protected:
  void SetUp() override {
    const std::string& url = StackConfig().aws.endpoint_url;
    moto_port_ = url.substr(url.rfind(':') + 1);
    proxy_port_ = FreeLoopbackPort();
    extra_ = "AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(proxy_port_) + " ";
    StartProxy();
  }
  void StartProxy() {
    proxy_ = std::make_unique<ChildProcess>("exec " + VenvPython() + " " + DI_SOURCE_DIR +
                                            "/tests/integration/tcp_proxy.py " +
                                            std::to_string(proxy_port_) + " " + moto_port_);
    std::string out;
    ASSERT_TRUE(WaitUntil([&] { return proxy_->Output().find("listening") != std::string::npos; },
                          [&] { return proxy_->Running(); }))
        << proxy_->Output();
  }

  // A migrate of a table mapped to DynamoDB and backed up, with AWS gone for `seconds` once
  // its read is under way; its exit code, its output in *out.
  int MigrateThroughAnOutage(int seconds, std::string* out) {
    ChildProcess run(StackEnvShell() + "exec " + Vars() + DI_BINARY + " --mode migrate");
    EXPECT_TRUE(WaitUntil([&] { return !ops_.reading(table_, "", rows_).empty(); },
                          [&] { return run.Running(); }))
        << run.Output();
    proxy_->Stop();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    StartProxy();
    const int rc = run.Wait();
    *out = run.Output();
    return rc;
  }

  std::string moto_port_;
  int proxy_port_ = 0;
  std::unique_ptr<ChildProcess> proxy_;
};

// A mapping of the table to DynamoDB and to a backup: the DynamoDB writes pace the read.
void MapToBoth(const std::string& mapping, const std::string& table, const std::string& s) {
  std::ofstream(mapping) << R"({"tables": [{"source": "postgresql", "table": ")" << table
                         << R"(", "backup": true, "dynamodb": {"table": "rc-)" << s
                         << R"(", "key": {"id": "id"}}}]})";
}

TEST_F(ReconnectTest, PostgresBackupCarriesOnAfterPgTerminateBackend) {
  ASSERT_NO_FATAL_FAILURE(Make(PostgresOps(), kBig, false));
  EndTheSessionInMidRead("backup");
}

TEST_F(ReconnectTest, PostgresMigrateCarriesOnAfterPgTerminateBackend) {
  ASSERT_NO_FATAL_FAILURE(Make(PostgresOps(), kBig, false));
  EndTheSessionInMidRead("migrate");
}

TEST_F(ReconnectTest, PostgresSyncCarriesOnAfterPgTerminateBackend) {
  ASSERT_NO_FATAL_FAILURE(Make(PostgresOps(), kSynced, true));
  EndTheSessionInMidRead("sync");
}

TEST_F(ReconnectTest, MariaDbBackupCarriesOnAfterKillConnection) {
  ASSERT_NO_FATAL_FAILURE(Make(MariaDbOps(), kBig, false));
  EndTheSessionInMidRead("backup");
}

// MariaDB's snapshot was a transaction of the killed session: the rest is read in a new one,
// and the migrate records no place in the binlog for change capture to start from.
TEST_F(ReconnectTest, MariaDbMigrateCarriesOnAfterKillConnection) {
  ASSERT_NO_FATAL_FAILURE(Make(MariaDbOps(), kBig, false));
  EndTheSessionInMidRead("migrate", "its snapshot's place in the change log is not recorded");
}

TEST_F(ReconnectTest, MariaDbSyncCarriesOnAfterKillConnection) {
  ASSERT_NO_FATAL_FAILURE(Make(MariaDbOps(), kSynced, true));
  EndTheSessionInMidRead("sync");
}

// MongoDB documents of ~200 bytes; FerretDB reads up to 25,000 a second, so the first progress
// line (after 2 s) comes with some 50,000 still to read; a sync writes ~5,000 a second of the
// wide ones to DynamoDB.
constexpr int kDocuments = 100000, kSyncedDocuments = 20000;

TEST_F(ReconnectTest, MongoBackupCarriesOnAfterAFerretDbRestart) {
  ASSERT_NO_FATAL_FAILURE(Make(FerretDbOps(), kDocuments, false));
  EndTheSessionInMidRead("backup");
}

TEST_F(ReconnectTest, MongoMigrateCarriesOnAfterAFerretDbRestart) {
  ASSERT_NO_FATAL_FAILURE(Make(FerretDbOps(), kDocuments, false));
  EndTheSessionInMidRead("migrate");
}

TEST_F(ReconnectTest, MongoSyncCarriesOnAfterAFerretDbRestart) {
  ASSERT_NO_FATAL_FAILURE(Make(FerretDbOps(), kSyncedDocuments, true));
  EndTheSessionInMidRead("sync");
}

// The session of a table's lookups (its embedded child rows, read in the migrate's snapshot)
// ended while the read goes on: the next lookup reconnects, joins the snapshot again, and every
// item gets its children.
TEST_F(ReconnectTest, PostgresLookupsCarryOnAfterPgTerminateBackend) {
  const std::string child = table_ + "_seats";
  ops_ = PostgresOps();
  ops_.create(table_, kLookupParents, kRows);
  rows_ = kLookupParents;
  Pg("CREATE TABLE " + child + " (id bigint PRIMARY KEY, parent_id bigint NOT NULL); INSERT INTO " +
     child + " SELECT g, (g + 1) / 2 FROM generate_series(1, " + std::to_string(rows_ * 2) + ") g");
  std::ofstream(mapping_) << R"({"tables": [{"source": "postgresql", "table": ")" << table_
                          << R"(", "backup": false, "dynamodb": {"table": "rc-)" << s_
                          << R"(", "key": {"id": "id"}, "embed": [{"table": ")" << child
                          << R"(", "match": {"parent_id": "id"}, "as": "seats"}]}}]})";
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  ChildProcess run(StackEnvShell() + "exec " + Vars() + DI_BINARY + " --mode migrate");
  // The lookups' session, idle in the snapshot between two batches' lookups.
  auto lookups = [&] {
    return Pg(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'data-ingestion' AND state = "
        "'idle in transaction' AND query LIKE '%FROM ' || chr(34) || '" +  // (the shell's quote)
        child +
        "' || chr(34) || ' WHERE%' LIMIT 1");
  };
  std::string pid;
  ASSERT_TRUE(WaitUntil([&] { return !(pid = lookups()).empty(); }, [&] { return run.Running(); }))
      << run.Output();
  run.Signal(SIGSTOP);
  const bool reading = !ops_.reading(table_, "", rows_).empty();  // more lookups to come
  pid = lookups();
  if (reading && !pid.empty()) Pg("SELECT pg_terminate_backend(" + pid + ")");
  run.Signal(SIGCONT);
  ASSERT_TRUE(reading && !pid.empty()) << "the read ended before the process was frozen";
  EXPECT_EQ(run.Wait(), 0) << run.Output();
  EXPECT_NE(run.Output().find(": SUCCESS"), std::string::npos) << run.Output();
  ASSERT_EQ(RunCommand(AwsCli() + "dynamodb scan --select COUNT --table-name rc-" + s_ +
                           " --filter-expression 'size(seats) = :two' "
                           "--expression-attribute-values '{\":two\": {\"N\": \"2\"}}'",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("\"Count\": " + std::to_string(rows_)), std::string::npos) << out;
  Pg("DROP TABLE " + child);
}

// AWS away for 3 s in mid-migrate: the requests are retried and the run succeeds, every
// target equal to the source.
TEST_F(MotoOutageTest, AShortOutageIsRiddenOutByRetries) {
  ASSERT_NO_FATAL_FAILURE(Make(PostgresOps(), kSynced, true));
  MapToBoth(mapping_, table_, s_);
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_EQ(MigrateThroughAnOutage(3, &out), 0) << out;
  EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
  std::string verify;
  EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &verify), 0) << verify;
}

// AWS away for longer than the retries last: the run fails (not SUCCESS), nothing it could
// not finish is recorded as done, and the next migrate resumes it and ends with every target
// equal to the source.
TEST_F(MotoOutageTest, ALongOutageFailsTheRunAndTheNextOneFinishesIt) {
  retries_ = 1;
  ASSERT_NO_FATAL_FAILURE(Make(PostgresOps(), kSynced, true));
  MapToBoth(mapping_, table_, s_);
  std::string out;
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode setup", &out), 0) << out;
  EXPECT_NE(MigrateThroughAnOutage(8, &out), 0) << out;
  EXPECT_EQ(out.find(": SUCCESS"), std::string::npos) << out;
  EXPECT_TRUE(out.find(": FAILED") != std::string::npos ||
              out.find(": PARTIAL") != std::string::npos)
      << out;
  std::string verify;
  EXPECT_NE(RunCommand(Env() + DI_BINARY + " --mode verify", &verify), 0) << verify;
  // Resumed where the failed run's record allows, or begun again: either way whole.
  ASSERT_EQ(RunCommand(Env() + DI_BINARY + " --mode migrate", &out), 0) << out;
  EXPECT_NE(out.find(": SUCCESS"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(Env() + DI_BINARY + " --mode verify", &verify), 0) << verify;
}

}  // namespace
}  // namespace di::testing
