// RunMigrate (pipeline/run.h) on a world of fakes, without the stack: a table of integer keys
// (tests/unit/fakes.h) migrated into a backup in a local folder and a DynamoDB kept in memory,
// its state in memory, its clock fake. What a run resumes from, what its checkpoints hold and
// what its report says are checked in milliseconds: a run whose state store goes away after a
// checkpoint (as a killed process leaves it) is resumed by the next one, each target from its
// own place; a source that drops its connection in mid-read fails the run honestly and the
// next run is whole — nothing lost, nothing in a backup twice. RunSync on the same world:
// each sync carries DynamoDB on from its watermark. A table whose items embed child rows:
// its lookups join its read's snapshot before anything is read, or the table fails; both
// are let go however the table ends.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fakes.h"
#include "pipeline/run.h"
#include "pipeline/run_parts.h"
#include "pipeline/state_faults.h"

namespace di {
namespace {

namespace fs = std::filesystem;
using fakes::Keys;

constexpr char kItems[] = "items";

class RunMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("di-run-migrate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = MakeLocalStore(dir_.string());
    config_.s3.compression = Compression::kNone;  // parts readable as they are
    config_.run.batch_size = 100;
    config_.run.workers = 1;
    config_.run.mapping_file = "(the test's mapping)";  // no cinema analytics exports
    data_ = std::make_shared<fakes::FakeTableData>();
    data_->keys = Keys(2500);
    data_->cells = true;
    sources_ = std::make_unique<fakes::FakeSources>(data_);
    dynamo_ = std::make_shared<fakes::MemoryDynamo>();
    ddb_ = fakes::DynamoOver(dynamo_);
    DynamoTarget target;
    target.table = kItems;
    target.key_attribute = "id";
    target.key_column = "id";
    target.key_type = "N";
    mapping_ = {TableMapping(Engine::kPostgres, "t", target)};
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunOutcome Sync(StateStore& state) {
    RunWorld world{config_, *sources_, *store_, &state, ddb_.get(), clock_};
    return RunSync(world, mapping_, std::nullopt,
                   [this](const std::string& l) { log_ += l + "\n"; });
  }
  RunOutcome Migrate(StateStore& state, const RunHooks& hooks = RunHooks()) {
    RunWorld world{config_, *sources_, *store_, &state, ddb_.get(), clock_};
    return RunMigrate(
        world, mapping_, [this](const std::string& l) { log_ += l + "\n"; }, hooks);
  }
  // The table's items embed child rows ("kids": the rows of "t" whose id is theirs), so its
  // lookups join the read's snapshot; the fake source pins snapshots and notes what it does.
  void EmbedKids() {
    mapping_[0].dynamodb->embed = {EmbedSpec{"t", "id", "id", "kids", true}};
    data_->snapshots = true;
  }
  int64_t Lookups(const std::vector<std::string>& events, const std::string& in) {
    return std::count(events.begin(), events.end(), "lookup in " + in);
  }
  // The keys of every record in the complete backup of run `run_id` (its manifest's parts).
  std::vector<int64_t> BackupKeys(const std::string& run_id) {
    std::vector<int64_t> keys;
    const std::string prefix = BackupPrefix("backups", Engine::kPostgres, "t", run_id);
    auto manifest = store_->Get(prefix + "manifest.json");
    if (!manifest.ok()) return keys;
    const nlohmann::json m = nlohmann::json::parse(*manifest);
    for (const auto& part : m["parts"]) {
      std::ifstream in(dir_ / part["key"].get<std::string>());
      for (std::string line; std::getline(in, line);)
        keys.push_back(nlohmann::json::parse(line)["id"].get<int64_t>());
    }
    return keys;
  }
  nlohmann::json Report(const RunOutcome& o) {
    auto text = store_->Get(o.report_key);
    return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
  }

  fs::path dir_;
  Config config_;
  std::unique_ptr<ObjectStore> store_;
  std::shared_ptr<fakes::FakeTableData> data_;
  std::unique_ptr<fakes::FakeSources> sources_;
  std::shared_ptr<fakes::MemoryDynamo> dynamo_;
  std::unique_ptr<aws::DynamoDbClient> ddb_;
  std::vector<TableMapping> mapping_;
  FakeClock clock_{std::chrono::system_clock::from_time_t(1767322800)};  // 2026-01-02 03:00 UTC
  std::string log_;
};

TEST_F(RunMigrateTest, AFreshRunReadsOnceWritesEveryTargetAndReportsWhatItDid) {
  MemoryStateStore state;
  RunOutcome o = Migrate(state);
  ASSERT_EQ(o.status, RunState::kSuccess) << log_;
  EXPECT_EQ(o.run_id, "20260102T030000Z");  // the world's clock, not the machine's
  EXPECT_EQ(data_->reads.load(), 1);
  EXPECT_EQ(BackupKeys(o.run_id), Keys(2500));
  auto puts = dynamo_->Puts(kItems);
  EXPECT_EQ(puts.size(), 2500u);
  for (const auto& [key, n] : puts) EXPECT_EQ(n, 1) << key;
  nlohmann::json report = Report(o);
  EXPECT_EQ(report["migration_status"], "SUCCESS");
  EXPECT_EQ(report["total_records_migrated"], 2500);
  EXPECT_EQ(report["finished_at"], "2026-01-02T03:00:00.000000Z");
  auto records = state.Records();
  EXPECT_EQ(records["run\nmigrate"]["state"], "done");
  const nlohmann::json& done = records["run#" + o.run_id + "\ntable:postgresql.t"];
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["backup"]["rows"], 2500);
  EXPECT_EQ(done["dynamodb"]["written"], 2500);
}

TEST_F(RunMigrateTest, ARunWhoseStateGoesAwayIsResumedEachTargetFromItsOwnCheckpoint) {
  MemoryStateStore kept;
  CheckpointFaults faults;
  faults.after = 6;
  faults.action = CheckpointFaults::Action::kFail;
  FaultingStateStore failing(kept, faults, clock_);
  RunOutcome first = Migrate(failing);
  EXPECT_NE(first.status, RunState::kSuccess);
  EXPECT_EQ(failing.checkpoints(), 6);
  // What the store kept is what a killed process leaves: the run still running, the table's
  // checkpoint with DynamoDB's place (a batch a checkpoint) and no backup part stored.
  auto records = kept.Records();
  EXPECT_EQ(records["run\nmigrate"]["state"], "running");
  const nlohmann::json cp = records["run#" + first.run_id + "\ntable:postgresql.t"];
  ASSERT_EQ(cp["state"], "running") << cp.dump();
  const int64_t durable = cp["sinks"]["dynamodb:items"]["offset"].get<int64_t>();
  EXPECT_GE(durable, 500);
  EXPECT_EQ(durable % 100, 0);
  EXPECT_TRUE(BackupKeys(first.run_id).empty());  // no manifest: not a backup

  auto before = dynamo_->Puts(kItems);
  clock_.Advance(std::chrono::minutes(5));
  RunOutcome second = Migrate(kept);
  ASSERT_EQ(second.status, RunState::kSuccess) << log_;
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.run_id, first.run_id);
  EXPECT_NE(log_.find("resuming: backup from the start, dynamodb:items after " +
                      std::to_string(durable) + " rows"),
            std::string::npos)
      << log_;
  EXPECT_EQ(BackupKeys(second.run_id), Keys(2500));  // whole, each row once
  auto puts = dynamo_->Puts(kItems);
  EXPECT_EQ(puts.size(), 2500u);
  // What DynamoDB had made durable before the stop is not written again.
  for (int64_t k : Keys(durable)) {  // the first `durable` rows
    const std::string key = nlohmann::json({{"N", std::to_string(k)}}).dump();
    EXPECT_EQ(puts[key], before[key]) << k;
  }
  EXPECT_EQ(kept.Records()["run\nmigrate"]["state"], "done");
}

TEST_F(RunMigrateTest, ASourceThatDropsItsConnectionFailsTheRunAndTheNextRunIsWhole) {
  data_->drops = 1;
  data_->drop_after = 1234;
  MemoryStateStore state;
  RunOutcome first = Migrate(state);
  EXPECT_EQ(first.status, RunState::kFailed);
  nlohmann::json report = Report(first);
  ASSERT_FALSE(report["tables"].empty());
  for (const auto& t : report["tables"]) {
    EXPECT_EQ(t["status"], "FAILED") << t.dump();
    EXPECT_NE(t["error"].get<std::string>().find("closed the connection"), std::string::npos);
  }
  EXPECT_TRUE(BackupKeys(first.run_id).empty());  // a read that failed lists no backup
  EXPECT_EQ(state.Records()["run\nmigrate"]["state"], "done");  // a failed run is over

  clock_.Advance(std::chrono::seconds(1));
  RunOutcome second = Migrate(state);
  ASSERT_EQ(second.status, RunState::kSuccess) << log_;
  EXPECT_NE(second.run_id, first.run_id);
  EXPECT_EQ(BackupKeys(second.run_id), Keys(2500));
  auto puts = dynamo_->Puts(kItems);
  EXPECT_EQ(puts.size(), 2500u);  // every row an item, upserted by its key
  for (const auto& [key, n] : puts) EXPECT_LE(n, 2) << key;
}

TEST_F(RunMigrateTest, AWorldWithoutDynamoDbIsRefusedWithWhatToSet) {
  RunWorld world{config_, *sources_, *store_, nullptr, nullptr, clock_};
  RunOutcome o = RunMigrate(world, mapping_, [](const std::string&) {});
  EXPECT_EQ(o.status, RunState::kFailed);
  ASSERT_EQ(o.problems.size(), 1u);
  EXPECT_NE(o.problems[0].find("AWS_ENDPOINT_URL"), std::string::npos);
  EXPECT_EQ(sources_->opened.load(), 0);
}

TEST_F(RunMigrateTest, ASyncWritesTheRowsAfterItsWatermarkAndMovesIt) {
  MemoryStateStore state;
  data_->keys = Keys(1000);
  RunOutcome first = Sync(state);
  ASSERT_EQ(first.status, RunState::kSuccess) << log_;
  EXPECT_NE(log_.find("1000 items written"), std::string::npos) << log_;
  EXPECT_NE(log_.find("(first sync: all rows)"), std::string::npos) << log_;
  EXPECT_EQ(dynamo_->Puts(kItems).size(), 1000u);
  // Rows added since (keys past the watermark): the next sync writes them and no other.
  data_->keys = Keys(1500);
  clock_.Advance(std::chrono::minutes(30));
  log_.clear();
  RunOutcome second = Sync(state);
  ASSERT_EQ(second.status, RunState::kSuccess) << log_;
  EXPECT_EQ(data_->reads.load(), 2);
  auto puts = dynamo_->Puts(kItems);
  EXPECT_EQ(puts.size(), 1500u);
  for (const auto& [key, n] : puts) EXPECT_EQ(n, 1) << key;
  EXPECT_NE(log_.find("500 items written"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("first sync"), std::string::npos) << log_;
  // A run in the same second has a run id (and a report) of its own.
  RunOutcome third = Sync(state);
  EXPECT_EQ(third.run_id, second.run_id + "-2");
  EXPECT_NE(Report(second), Report(third));
  EXPECT_EQ(Report(third)["run_id"], third.run_id);
}

TEST_F(RunMigrateTest, TheLookupsOfATableThatEmbedsRowsSeeTheSnapshotOfItsRead) {
  EmbedKids();
  MemoryStateStore state;
  RunOutcome o = Migrate(state);
  ASSERT_EQ(o.status, RunState::kSuccess) << log_;
  const auto ev = data_->events();
  // Pinned and joined before the read; every batch's lookup in that snapshot; both let go.
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(ev.begin(), ev.begin() + 3),
            (std::vector<std::string>{"pin snap-1", "join snap-1", "read in snap-1"}));
  EXPECT_EQ(Lookups(ev, "snap-1"), 25);  // 2500 rows, batches of 100
  EXPECT_EQ(Lookups(ev, "live"), 0);
  EXPECT_EQ(std::vector<std::string>(ev.end() - 2, ev.end()),
            (std::vector<std::string>{"leave snap-1", "release snap-1"}));
  EXPECT_EQ(dynamo_->Puts(kItems).size(), 2500u);
}

TEST_F(RunMigrateTest, ASourceThatServesLookupsInItsSnapshotTakesThemInsteadOfAJoin) {
  EmbedKids();
  data_->serves_lookups = true;  // as MariaDB's does: it cannot share its snapshot
  MemoryStateStore state;
  ASSERT_EQ(Migrate(state).status, RunState::kSuccess) << log_;
  const auto ev = data_->events();
  // No join: every batch's lookup by the pinned source itself, in its snapshot.
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(ev.begin(), ev.begin() + 2),
            (std::vector<std::string>{"pin snap-1", "read in snap-1"}));
  EXPECT_EQ(Lookups(ev, "snap-1 by the read's source"), 25);  // 2500 rows, batches of 100
  EXPECT_EQ(ev.size(), 28u);                                  // and nothing else
  EXPECT_EQ(ev.back(), "release snap-1");
  EXPECT_EQ(log_.find("WARNING"), std::string::npos) << log_;
  EXPECT_EQ(dynamo_->Puts(kItems).size(), 2500u);
}

TEST_F(RunMigrateTest, ATableWithoutLookupsPinsItsReadAndJoinsNothing) {
  data_->snapshots = true;
  MemoryStateStore state;
  ASSERT_EQ(Migrate(state).status, RunState::kSuccess) << log_;
  EXPECT_EQ(data_->events(),
            (std::vector<std::string>{"pin snap-1", "read in snap-1", "release snap-1"}));
}

TEST_F(RunMigrateTest, LookupsThatCannotJoinTheSnapshotFailTheTableBeforeAnythingIsRead) {
  EmbedKids();
  data_->join_fails = true;
  MemoryStateStore state;
  RunOutcome o = Migrate(state);
  EXPECT_EQ(o.status, RunState::kFailed);
  EXPECT_EQ(data_->reads.load(), 0);
  EXPECT_TRUE(dynamo_->Puts(kItems).empty());
  const std::string why =
      "the DynamoDB lookups (embedded rows, enrichments) cannot join the snapshot of the "
      "table's read: fake source: snapshot snap-1 is gone";
  EXPECT_NE(log_.find("[migrate] postgresql.t: FAILED: " + why), std::string::npos) << log_;
  nlohmann::json report = Report(o);
  ASSERT_EQ(report["tables"].size(), 2u);  // the backup and DynamoDB, each failed with why
  for (const auto& t : report["tables"]) EXPECT_EQ(t["error"], why) << t.dump();
  EXPECT_EQ(data_->events(), (std::vector<std::string>{"pin snap-1", "release snap-1"}));
}

TEST_F(RunMigrateTest, AMissedJoinPinsTheReadAgainAndTooManyLeaveTheLookupsLiveWithAWarning) {
  EmbedKids();
  data_->join_misses = 2;  // as MariaDB misses when a commit comes between the two
  MemoryStateStore state;
  ASSERT_EQ(Migrate(state).status, RunState::kSuccess) << log_;
  auto ev = data_->events();
  EXPECT_EQ(std::vector<std::string>(ev.begin(), ev.begin() + 6),
            (std::vector<std::string>{"pin snap-1", "release snap-1", "pin snap-2",
                                      "release snap-2", "pin snap-3", "join snap-3"}));
  EXPECT_EQ(Lookups(ev, "snap-3"), 25);
  EXPECT_EQ(log_.find("WARNING"), std::string::npos) << log_;

  data_->join_misses = runs::TableSnapshot::kJoinTries;
  clock_.Advance(std::chrono::seconds(1));
  RunOutcome o = Migrate(state);
  ASSERT_EQ(o.status, RunState::kSuccess) << log_;
  EXPECT_NE(log_.find("postgresql.t: WARNING: its lookups (embedded rows, enrichments) read the "
                      "live database, not the read's snapshot: 50 tries to open the same snapshot "
                      "for them missed; the last: fake source: a commit came between"),
            std::string::npos)
      << log_;
  ev = data_->events();
  EXPECT_EQ(Lookups(ev, "live"), 25);
  EXPECT_EQ(
      ev.back(),
      "release snap-" +
          std::to_string(3 + runs::TableSnapshot::kJoinTries));  // the last try's pin, the read's
}

TEST_F(RunMigrateTest, TheSnapshotAndTheJoinAreLetGoWhenTheReadFailsOrIsStopped) {
  EmbedKids();
  data_->drops = 1;
  data_->drop_after = 1234;
  MemoryStateStore state;
  EXPECT_EQ(Migrate(state).status, RunState::kFailed);
  auto ev = data_->events();
  EXPECT_EQ(std::vector<std::string>(ev.end() - 2, ev.end()),
            (std::vector<std::string>{"leave snap-1", "release snap-1"}));

  std::atomic<bool> stop{true};
  RunHooks hooks;
  hooks.stop = &stop;
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Migrate(state, hooks).status, RunState::kStopped) << log_;
  ev = data_->events();
  EXPECT_EQ(std::vector<std::string>(ev.end() - 2, ev.end()),
            (std::vector<std::string>{"leave snap-2", "release snap-2"}));
}

}  // namespace
}  // namespace di
