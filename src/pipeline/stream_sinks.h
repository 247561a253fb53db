// The targets of `--mode stream` (pipeline/stream.h): each applies a batch of streamed
// changes (sources/change_stream.h) durably before Apply returns — or, for a batch that ends
// inside a source transaction (StreamBatch::mid_transaction), by the time Apply returns for the
// batch that ends it — so the stream confirms a place to the source only after a batch that
// ends between transactions has been applied by every sink.
//
// - ChangeLogSink: the S3 change log (docs/formats.md, Change logs): per table one object
//   `<folder>/<engine>/<table>/changes/<from>-<to>.jsonl<ext>`, one change a line, stored
//   whole (listed only when complete), for the changes of up to STREAM_CHANGE_LOG_SECONDS
//   (or 8 MB of lines): it holds them meanwhile (holding()), and the stream confirms nothing
//   while a sink holds changes.
// - DynamoStreamSink: the mapped tables' DynamoDB items, put and deleted by key; a change of
//   an embedded child table (or of a row whose values the source did not all send) rewrites
//   the item from the source's current rows.
// - WarehouseStreamSink: the warehouse, each batch's net changes in one transaction (kept
//   open across the pieces of a source transaction too big for one batch).
//
// Every sink is idempotent: after a restart the stream gives again every change after the
// last confirmed place, and applying a change twice ends where applying it once does. A sink
// is called from one thread at a time; none is thread-safe. An error leaves the sink ready
// for the same batch again (the stream retries it after a pause).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "pipeline/mapping.h"
#include "sinks/backup_record.h"
#include "sinks/object_store.h"
#include "sinks/warehouse.h"
#include "sources/change_stream.h"

namespace di {

// Per table: the place (StreamChange::order) its copy in a target starts after — the
// snapshot it was last copied from: a change before it is in the copy already, and is not
// applied. A table not in it is not applied at all.
using StreamFrom = std::map<std::string, uint64_t>;

// Whether `from` has the change's table and the change is after its place.
bool Applies(const StreamFrom& from, const StreamChange& change);

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual std::string name() const = 0;  // "changelog", "dynamodb", "warehouse"
  virtual Status Apply(const StreamBatch& batch) = 0;
  // Whether changes applied are held, not yet durable (the stream confirms none meanwhile).
  virtual bool holding() const { return false; }
  // Makes what it holds durable now (before the stream confirms its last place and stops).
  virtual Status Flush() { return Status::Ok(); }
};

// A change's place as a change log object's name sorts it (pipeline/change_log.h).
std::string ChangeLogPlace(const StreamChange& change);
// A change as one line of the change log (no newline): {"op", "position", "sequence",
// "commit_time", "key", "row" (inserts and updates, in the backup's record format),
// "unchanged" (columns not sent), "old_key" (an update that moved the key)}.
// `record` writes rows of the change's table description.
void AppendChangeLine(const StreamChange& change, const RecordWriter& record, std::string& out);

class ChangeLogSink : public StreamSink {
 public:
  // `from`: the tables whose changes are logged (the mapped ones; not a child table followed
  // only for the items that embed it). `hold`: how long changes are gathered into one object
  // per table (0: an object per table and batch); kHoldBytes of lines are written at once.
  ChangeLogSink(ObjectStore& store, std::string backup_folder, Compression codec, StreamFrom from,
                std::chrono::milliseconds hold = std::chrono::milliseconds(0));
  ~ChangeLogSink() override;
  std::string name() const override { return "changelog"; }
  Status Apply(const StreamBatch& batch) override;
  bool holding() const override { return held_bytes_ > 0; }
  Status Flush() override;
  int64_t objects() const { return objects_; }
  static constexpr size_t kHoldBytes = 8 << 20;

 private:
  struct Held;  // one table's lines not yet stored
  ObjectStore& store_;
  const std::string folder_;
  const Compression codec_;
  const StreamFrom from_;
  const std::chrono::milliseconds hold_;
  std::map<std::string, std::unique_ptr<Held>> held_;
  size_t held_bytes_ = 0;
  std::chrono::steady_clock::time_point held_since_;
  int64_t objects_ = 0;
};

class DynamoStreamSink : public StreamSink {
 public:
  // `mapping`: the stream's mapped tables (those with a DynamoDB target are written; `from`
  // by the mapped table's name, for its own changes and those of the tables it embeds);
  // `lookup`: a source of the streamed database (rows rewritten from its current state).
  DynamoStreamSink(const std::vector<TableMapping>& mapping, StreamFrom from, Source& lookup,
                   aws::DynamoDbClient& dynamodb, ObjectStore& store, std::string dead_folder);
  ~DynamoStreamSink() override;
  std::string name() const override { return "dynamodb"; }
  Status Apply(const StreamBatch& batch) override;
  int64_t written() const { return written_; }
  int64_t deleted() const { return deleted_; }

 private:
  struct Target;
  Result<Target*> TargetOf(const TableMapping& m);
  // What a batch's changes touch beyond their own rows: per mapped table, the keys of the
  // items to rewrite from the source; the tables a TRUNCATE emptied (every item deleted
  // first); those embedding a table a TRUNCATE emptied (every item rewritten).
  struct Touch {
    std::map<const TableMapping*, std::vector<Value>> rewrite;
    std::set<const TableMapping*> clear, every;
  };
  Status Touched(const std::vector<StreamChange>& changes, Touch* touch);
  Status Rewrite(const TableMapping& m, const std::vector<Value>& keys);
  // Every item of m's table: deleted (`rewrite` false) or rewritten from the source, a page of
  // a scan at a time.
  Status EachItem(const TableMapping& m, bool rewrite);
  Status Put(const TableMapping& m, const TableInfo& table,
             const std::vector<std::vector<Value>>& rows);
  Status Delete(const TableMapping& m, const std::vector<Value>& keys);

  const std::vector<TableMapping>& mapping_;
  const StreamFrom from_;
  Source& lookup_;
  aws::DynamoDbClient& dynamodb_;
  ObjectStore& store_;
  const std::string dead_folder_;
  std::map<std::string, std::unique_ptr<Target>> targets_;  // by mapped table
  // Each table's last description streamed.
  std::map<std::string, std::shared_ptr<const TableInfo>> seen_;
  int64_t written_ = 0, deleted_ = 0, batches_ = 0;
};

class WarehouseStreamSink : public StreamSink {
 public:
  // `from`: the tables the warehouse holds (the mapped ones).
  WarehouseStreamSink(std::string url, StreamFrom from)
      : url_(std::move(url)), from_(std::move(from)) {}
  std::string name() const override { return "warehouse"; }
  Status Apply(const StreamBatch& batch) override;

 private:
  std::string url_;
  const StreamFrom from_;
  std::unique_ptr<Warehouse> warehouse_;
  bool open_ = false;  // a transaction begun by an earlier piece of the same source transaction
};

}  // namespace di
