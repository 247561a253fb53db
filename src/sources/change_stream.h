// ChangeStream: a database's change log read as it grows — inserts, updates and deletes of
// the tables it is asked for, across tables in source-commit order, with each change's place
// in the log and its commit time — and the way back: Confirm tells the source how far every
// target has durably applied, so the source may forget what came before (PostgreSQL: the
// slot's confirmed position). What `--mode stream` (pipeline/stream.h) reads; each engine has
// its own (sources/pg_change_stream.h: PostgreSQL's logical replication).
//
// Not thread-safe: one thread reads and confirms. A stream that fails (the connection
// dropped, the server refused) is dropped and opened again from the last confirmed place:
// every change after it comes again, so whoever applies them must be idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/change.h"
#include "core/status.h"
#include "core/table.h"
#include "core/value.h"

namespace di {

// One change of one row.
struct StreamChange {
  // The table as it was when the change was made (a new shared TableInfo after a column was
  // added or dropped); `row` has a Value per column of it.
  std::shared_ptr<const TableInfo> table;
  ChangeOp op = ChangeOp::kInsert;
  // insert, update: the new row; delete: its key columns (the others NULL); truncate: empty
  // (every row of the table is gone).
  std::vector<Value> row;
  // Empty, or per column: the source did not send the value because it did not change
  // (PostgreSQL's unchanged TOAST values); `row` holds NULL there, which must not overwrite
  // what a target has.
  std::vector<bool> unchanged;
  // An update that changed the row's primary key: the old key's values (in primary_key
  // order), whose row is gone. Empty otherwise.
  std::vector<Value> old_key;
  // An update of a table whose changes carry the whole old row (PostgreSQL's REPLICA
  // IDENTITY FULL): that row. Empty otherwise.
  std::vector<Value> old_row;
  std::string position;   // the commit's place in the log, as the engine writes it ("0/16B3748")
  uint32_t sequence = 0;  // the change's place in its transaction: 0, 1, 2...
  int64_t commit_micros = 0;  // the commit's time, UTC micros since 1970
  uint64_t order = 0;         // the commit's place as a number in log order (PostgreSQL: LSN)
  bool has_unchanged() const { return !unchanged.empty(); }
};

// What one ChangeStream::Next gives: changes in commit order (whole transactions, or pieces
// of one too big to hold), and where a stream opened again would start to give nothing
// twice and lose nothing.
struct StreamBatch {
  std::vector<StreamChange> changes;
  // Just past the last whole transaction given (or, when idle, the log's end as the source
  // reported it): the place to confirm once every change up to it is durably applied.
  // Empty when it did not move in this batch (a piece of a transaction that goes on).
  std::string resume;
  bool mid_transaction = false;  // the last change's transaction goes on in the next batch
  // Things passed over that a user should hear of.
  std::vector<std::string> warnings;
  void clear() {
    changes.clear();
    resume.clear();
    mid_transaction = false;
    warnings.clear();
  }
};

class ChangeStream {
 public:
  virtual ~ChangeStream() = default;
  // Fills `batch` (cleared first) with up to `max_changes` changes: what arrives within
  // `wait`, handed over as soon as a transaction ends and nothing more is waiting. A batch
  // with no changes and no resume place: nothing happened. An error when the stream broke.
  virtual Status Next(StreamBatch* batch, size_t max_changes, std::chrono::milliseconds wait) = 0;
  // Every change up to `position` (a StreamBatch::resume) is durably applied.
  virtual Status Confirm(const std::string& position) = 0;
  // The place the source holds for this stream (the last confirmed), for the lag.
  virtual std::string Confirmed() const = 0;
  // How far the source's log goes beyond the confirmed place, in bytes (WAL), as the source
  // last reported its end; 0 when unknown.
  virtual int64_t LagBytes() const = 0;
  // "postgresql://host:port/db slot data_ingestion": for logs and messages.
  virtual std::string where() const = 0;
};

}  // namespace di
