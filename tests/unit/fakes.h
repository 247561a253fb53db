// Fakes of the world a run is handed (pipeline/world.h), for unit tests without the stack: a
// table of integer keys (FakeSource) that can drop its connection in mid-read, a factory of
// them (FakeSources), and a DynamoDB that keeps what BatchWriteItem wrote in memory
// (MemoryDynamo). Thread-safe where a run's workers share them (the factory, the DynamoDB).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb_client.h"
#include "aws/http.h"
#include "sources/factory.h"
#include "sources/source.h"

namespace di::fakes {

// The one table of the fakes: postgresql "t", key "id" (bigint).
const TableInfo& FakeTable();

// A reader's cell decoder, which lives as long as its reader (core/cells.h); the decoders
// alive are registered, so a sink given a batch whose reader is gone can tell.
class IntDecoder : public CellDecoder {
 public:
  IntDecoder();
  ~IntDecoder() override;
  Value Decode(size_t, std::string_view text) const override;
  static bool Alive(const CellDecoder* d);
};

// What the sources of one fake table share: its keys and the connection drops still to come.
struct FakeTableData {
  std::vector<int64_t> keys;
  bool cells = false;  // readers give cells (their decoder theirs), as the SQL readers do
  // The next `drops` reads lose their connection after `drop_after` rows of theirs.
  std::atomic<int> drops{0};
  int64_t drop_after = 0;
  std::atomic<int> reads{0};  // reads opened, by every source of the table
  // With `reconnects`, a drop is a lost connection (Source::ConnectionLost) that Reconnect
  // mends, after failing `reconnect_failures` times; `reconnected` counts the mends.
  bool reconnects = false;
  std::atomic<int> reconnect_failures{0};
  std::atomic<int> reconnected{0};
  // Snapshots: with `snapshots`, PinSnapshot pins "snap-<n>" (n counts the pins), which
  // SharedSnapshot gives and JoinSnapshot joins (an error when `join_fails`; false, missed,
  // for the first `join_misses` tries). What each source did, in order, in events():
  // "pin snap-1", "join snap-1", "read in snap-1", "lookup in snap-1" (a source neither
  // pinned nor joined: "... in live"), "leave snap-1", "release snap-1".
  // With `serves_lookups` too, the pinning source serves lookups in its snapshot
  // (ServeLookupsInSnapshot, as MariaDB's does): its lookups are noted "lookup in snap-1 by
  // the read's source".
  bool snapshots = false;
  bool serves_lookups = false;
  bool join_fails = false;
  std::atomic<int> join_misses{0};
  void Note(const std::string& event);
  std::vector<std::string> events();
  std::atomic<int> pins{0};

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

// The table of `data` read in key order over (after, until].
class FakeSource : public Source {
 public:
  explicit FakeSource(std::shared_ptr<FakeTableData> data) : data_(std::move(data)) {}
  // A source of its own table.
  explicit FakeSource(std::vector<int64_t> keys, bool cells = false);
  Engine engine() const override { return Engine::kPostgres; }
  Result<std::vector<std::string>> ListTables() override { return std::vector<std::string>{"t"}; }
  Result<TableInfo> Describe(const std::string&, const std::string&) override;
  Result<std::unique_ptr<RowReader>> Read(const TableInfo&, const ReadOptions& o) override;
  int64_t EstimateRows(const TableInfo&) override;
  // No rows (noted, with the snapshot it ran in).
  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo&, const std::string&,
                                                 const std::vector<Value>&) override;
  Result<LogPosition> PinSnapshot() override;
  void ReleaseSnapshot() override;
  Result<std::string> SharedSnapshot() override { return pinned_; }
  Result<bool> JoinSnapshot(const std::string& token, std::string* missed) override;
  void LeaveSnapshot() override;
  bool ServeLookupsInSnapshot() override;
  bool ConnectionLost() const override { return data_->reconnects && lost_.load(); }
  Status Reconnect(std::string* note) override;
  int reads() const { return data_->reads.load(); }

 private:
  std::atomic<bool> lost_{false};  // a reader of this source dropped
  std::string Seen() const;        // the snapshot reads see: "snap-<n>" or "live"
  std::shared_ptr<FakeTableData> data_;
  std::string pinned_, joined_;
  bool serving_ = false;
};

// Every Open gives a new FakeSource of the same table; counts them.
class FakeSources : public SourceFactory {
 public:
  explicit FakeSources(std::shared_ptr<FakeTableData> data) : data_(std::move(data)) {}
  Result<std::unique_ptr<Source>> Open(Engine, const std::string& = "") override;
  std::atomic<int> opened{0};

 private:
  std::shared_ptr<FakeTableData> data_;
};

// DynamoDB's BatchWriteItem kept in memory: every put, in order, per table. Anything else is
// answered 400 (the runs under test make no other call). `unavailable` set: every call fails
// as a dropped connection would.
class MemoryDynamo : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override;
  // The keys ("id" attribute, as written) put into `table`, each with how often.
  std::map<std::string, int> Puts(const std::string& table);
  std::atomic<bool> unavailable{false};

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, int>> puts_;
};

// An AWS client of `service` ("s3", "dynamodb") over `transport` (no retries: a failure is
// seen at once).
std::shared_ptr<aws::AwsClient> ClientOver(const std::string& service,
                                           std::shared_ptr<aws::HttpTransport> transport);
// A DynamoDB client over `transport` (no retries: a failure is seen at once).
std::unique_ptr<aws::DynamoDbClient> DynamoOver(std::shared_ptr<aws::HttpTransport> transport);

std::vector<int64_t> Keys(int64_t n);  // 10, 20, … 10·n

}  // namespace di::fakes
