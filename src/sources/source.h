// Source: reads tables (or collections) of one database as a stream of RecordBatches with
// memory bounded by the batch size, never by the table's size. One Source owns one
// connection, reused across batches and tables; it is not thread-safe (one per worker), and
// a Source reads one table at a time: finish or drop a RowReader before starting another.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cells.h"
#include "core/change.h"
#include "core/status.h"
#include "core/value.h"

namespace di {

struct RecordBatch {
  // SQL: one Value per column, in TableInfo::columns order. MongoDB: one Document.
  std::vector<std::vector<Value>> rows;
  std::optional<Position> last;  // incremental reads: the position of the last row
  void clear() {
    rows.clear();
    last.reset();
  }
};

struct ReadOptions {
  size_t batch_size = 1000;
  // Ordered read: rows after this position, in (cursor, key) order (or key order with
  // `by_key`), in one ordered pass over the table (one query, one snapshot where the engine
  // gives one), batches of batch_size each ending with its last row's position.
  // Unset, and neither flag: the whole table in one streamed pass.
  std::optional<Position> after;
  bool incremental = false;  // with no `after`: from the start, in (cursor, key) order
  // Primary-key order (full loads that resume): needs a primary key, never the change
  // column (which may be missing or allow NULL); positions are the key (Position::cursor
  // is NULL).
  bool by_key = false;
  // With `by_key`: rows up to and including this key, so a range (after, until] of the
  // table is read (a resumed run's catch-up of a target that was behind the others).
  std::optional<Position> until = std::nullopt;
  // Whether rows come in an order with positions (else one unordered streamed pass).
  bool ordered() const { return incremental || by_key || after.has_value(); }
};

// After a failure, a reader holds nothing of its source's connection (destroying it touches
// no connection), so the source may reconnect while the batches it gave are still in use.
class RowReader {
 public:
  virtual ~RowReader() = default;
  // Fills `batch` (cleared first) with up to batch_size rows; false once the table is done.
  virtual Result<bool> Next(RecordBatch* batch) = 0;
  // Readers that give each cell's text as the server sent it (the SQL readers), for the
  // sinks' encoders to write from (core/cells.h). Use one of Next and NextCells for a whole
  // table.
  virtual bool CanReadCells() const { return false; }
  // Like Next, into `batch` (cleared first; its kinds and decoder set).
  virtual Result<bool> NextCells(CellBatch* batch) {
    (void)batch;
    return Internal("this reader cannot give cells");
  }
};

// Reads the next batch of `inner` on its own thread while the caller works on the last one
// (memory: one batch more, never two). Destroying it mid-table waits for the batch being read.
// With `cells`, it reads with NextCells and answers that only; else with Next.
class PrefetchReader : public RowReader {
 public:
  explicit PrefetchReader(std::unique_ptr<RowReader> inner, bool cells = false);
  ~PrefetchReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  bool CanReadCells() const override { return cells_; }
  Result<bool> NextCells(CellBatch* batch) override;

 private:
  void Loop();
  // Waits for the next batch and moves it from `slot` to `batch`.
  template <typename Batch>
  Result<bool> Hand(Batch* batch, Batch& slot);

  std::unique_ptr<RowReader> inner_;
  bool cells_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false, closing_ = false;
  RecordBatch next_;
  CellBatch next_cells_;
  Result<bool> more_ = true;
  std::thread thread_;
};

// A RowReader's batches as snapshot changes: every row an insert, each batch with its
// position (ordered reads), as cells where the reader gives them. Owns the RowReader.
class SnapshotChangeReader : public ChangeReader {
 public:
  // `cells`: batches come as cells when the reader can give them, else always as Values.
  explicit SnapshotChangeReader(std::unique_ptr<RowReader> rows, bool cells = true)
      : rows_(std::move(rows)), cells_(cells) {}
  Result<bool> Next(ChangeBatch* batch) override;

 private:
  std::unique_ptr<RowReader> rows_;
  bool cells_;
  RecordBatch scratch_;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual Engine engine() const = 0;
  virtual Result<std::vector<std::string>> ListTables() = 0;
  // Columns, source types, primary key; `cursor_column` is kept when the table has it.
  virtual Result<TableInfo> Describe(const std::string& table,
                                     const std::string& cursor_column = "updated_at") = 0;
  virtual Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                                  const ReadOptions& options) = 0;
  // The engine's cheap estimate of the row count (statistics, not COUNT(*)), for progress
  // and ETA; -1 when it has none.
  virtual int64_t EstimateRows(const TableInfo& table) = 0;
  // The rows whose `column` is one of `values` (for embedding child rows and enrichment);
  // callers keep `values` to a batch.
  virtual Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table,
                                                         const std::string& column,
                                                         const std::vector<Value>& values) = 0;
  // Pins the snapshot the reads opened next on this source will see, until ReleaseSnapshot,
  // and gives its place in the source's change log — the point change capture starts from
  // (PostgreSQL: the LSN of a temporary replication slot whose exported snapshot the reads
  // import). Empty when the engine gives none; an error (the server not set up for it)
  // names the setting to change, and the reads then see their own snapshot.
  virtual Result<LogPosition> PinSnapshot() { return LogPosition(); }
  virtual void ReleaseSnapshot() {}
  // A second source of the same server seeing the pinned snapshot (a table's DynamoDB
  // lookups: embedded child rows, enrichments). Like the rest of a Source, none of these is
  // thread-safe: each source is called from one thread at a time (a run hands the joined
  // source to its DynamoDB sink's thread and takes it back after, the fan-out ordering the
  // two).
  //
  // SharedSnapshot, on the source that pinned: a token for JoinSnapshot, valid until
  // ReleaseSnapshot (PostgreSQL: the exported snapshot's name, which lives while the slot's
  // session is open). Empty when there is none to share: nothing pinned, an engine whose
  // reads have no snapshot (MongoDB: FerretDB's reads are not isolated), or one that serves
  // its lookups itself instead (MariaDB: ServeLookupsInSnapshot).
  virtual Result<std::string> SharedSnapshot() { return std::string(); }
  // JoinSnapshot, on another source of the same server and database, before the pinning
  // source's ReleaseSnapshot: what it reads next (Lookup, Describe, Read) sees the snapshot
  // of `token`, until LeaveSnapshot (after which it reads live again). PostgreSQL imports the
  // exported snapshot, exactly. A source that joins by a place its own snapshot must meet
  // (none does today: MariaDB's second snapshot at an equal binlog place was not the same
  // one) answers false when they differ, not joined, `*missed` saying why: pin again and
  // retry. An error
  // when it cannot join at all (a token it does not know or that has expired, the
  // connection lost), naming the server; the source is then not joined either.
  virtual Result<bool> JoinSnapshot(const std::string& token, std::string* missed) {
    (void)missed;
    return Internal("this source cannot join the snapshot '" + token + "'");
  }
  // Ends a JoinSnapshot (its transaction closed); a no-op when not joined.
  virtual void LeaveSnapshot() {}
  // On the source that pinned, for an engine that cannot share its snapshot with a second
  // source (MariaDB): whether it serves a table's lookups itself, inside the pinned snapshot,
  // until ReleaseSnapshot. When true, Lookup may then be called from one other thread (the
  // DynamoDB sink's) while this source's ordered reads go on, the source taking turns on its
  // connection; its ordered reads opened next come in pages of a batch, so the connection
  // is free between them, and an unordered read is refused. False (the default) when
  // nothing is pinned or the engine shares by SharedSnapshot/JoinSnapshot instead.
  virtual bool ServeLookupsInSnapshot() { return false; }
  // Whether the last failure on this source was its connection itself (the server ended the
  // session — a DBA's pg_terminate_backend or KILL CONNECTION, a restart, a failover — or the
  // network dropped it), not the query: what Reconnect mends.
  virtual bool ConnectionLost() const { return false; }
  // A new connection in place of a lost one, set up as the first was. Readers that failed
  // on the old one hold nothing of it (RowReader), so batches they gave stay valid. A pinned
  // snapshot that lived with the lost connection is gone: `*note` then says so, and reads
  // opened next see a new one (MariaDB) or none (PostgreSQL, when the slot's session went
  // too); one held on another session is kept. An error when the server does not answer
  // (yet): try again later.
  virtual Status Reconnect(std::string* note) {
    (void)note;
    return Unavailable("this source cannot reconnect");
  }
  // Whether some index of `table` starts with `column` (so an ordered read by it needs no
  // sort of the whole table); true when the engine cannot tell.
  virtual Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) {
    (void)table;
    (void)column;
    return true;
  }
};

// For SQL sources: the column indexes of (cursor, primary key...) in `table.columns`, and
// the Position of a row in that order.
std::vector<size_t> KeysetColumns(const TableInfo& table);
// The columns an ordered read of `options` sorts by: the primary key's with `by_key`, else
// KeysetColumns.
std::vector<size_t> OrderColumns(const TableInfo& table, const ReadOptions& options);
// A row's Position in the order of OrderColumns (`order`): with `by_key` the cursor is NULL
// and the key is every order column.
Position PositionIn(const std::vector<Value>& row, const std::vector<size_t>& order, bool by_key);
// The tail of an SQL ordered read after its SELECT ... FROM: " WHERE (order) > (after)" (or
// "cursor > v" for a bare cursor position) when it has a position, then " ORDER BY order".
// `quote` quotes an identifier; `value(column, v)` renders v, a value of that column, as the
// engine's literal or parameter. `expand`: a comparison of several columns is written out
// ("a > 1 OR (a = 1 AND b > 2)"), for an engine whose planner scans a whole index for a row
// comparison (MariaDB) but ranges over the written-out form.
std::string OrderedReadTail(const TableInfo& table, const ReadOptions& options,
                            const std::function<std::string(std::string_view)>& quote,
                            const std::function<std::string(size_t, const Value&)>& value,
                            bool expand = false);
// An SQL table's change-tracking column allows NULL: a keyset page cannot go past a NULL
// (it compares as unknown), so such a table is neither paged nor tracked (an error naming
// the column and the fix when asked to).
bool NullableCursor(const TableInfo& table);
// Whether an SQL table can be read as `options` asks: incremental reads need a change-tracking
// column and a primary key, and incremental or resumed (keyset) reads a cursor that is NOT
// NULL; reads by key need only a primary key. The error names the table (after `where`) and
// the fix.
Status CheckKeysetRead(const std::string& where, const TableInfo& table,
                       const ReadOptions& options);
Position PositionOf(const std::vector<Value>& row, const std::vector<size_t>& keyset);

}  // namespace di
