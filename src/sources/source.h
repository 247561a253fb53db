// Source: reads tables (or collections) of one database as a stream of RecordBatches with
// memory bounded by the batch size, never by the table's size. One Source owns one
// connection, reused across batches and tables; it is not thread-safe (one per worker), and
// a Source reads one table at a time: finish or drop a RowReader before starting another.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
  // Whether rows come in an order with positions (else one unordered streamed pass).
  bool ordered() const { return incremental || by_key || after.has_value(); }
};

// Rows as their backup records, written without Values (see RowReader::NextEncoded).
struct EncodedBatch {
  std::string lines;           // one record per row, each followed by '\n'
  std::vector<size_t> ends;    // per row: the offset just past its '\n'
  std::vector<Value> keysets;  // per row: the values of the asked keyset columns, row after row
  void clear() {
    lines.clear();
    ends.clear();
    keysets.clear();
  }
};

// Rows as DynamoDB AttributeValues written from the server's text, without Values (see
// RowReader::NextAttributes): each cell's JSON text, byte for byte what AppendAttributeValue
// writes for the value Next would give.
struct AttributeBatch {
  size_t columns = 0;
  std::string text;                   // every cell's text, row after row
  std::vector<size_t> ends;           // per cell: the offset just past its text
  std::vector<size_t> sizes;          // per cell: its size as DynamoDB counts it
  std::vector<char> nulls;            // per cell: SQL NULL
  std::vector<Value> values;          // per row: the values of the asked columns, in turn
  std::vector<std::string> warnings;  // values stored as S (see AppendAttributeValue)
  std::optional<Position> last;       // as RecordBatch::last
  size_t rows() const { return columns ? ends.size() / columns : 0; }
  std::string_view cell(size_t row, size_t column) const {
    size_t i = row * columns + column, begin = i ? ends[i - 1] : 0;
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  void clear() {
    text.clear();
    ends.clear();
    sizes.clear();
    nulls.clear();
    values.clear();
    warnings.clear();
    last.reset();
  }
};

class RowReader {
 public:
  virtual ~RowReader() = default;
  // Fills `batch` (cleared first) with up to batch_size rows; false once the table is done.
  virtual Result<bool> Next(RecordBatch* batch) = 0;
  // Readers that can write each row's backup record straight from what the server sent,
  // byte for byte what RecordWriter writes from Next's values, without building the values
  // (the PostgreSQL COPY stream, the MariaDB streamed result). Use one of Next and NextEncoded
  // for a whole table.
  virtual bool CanEncode() const { return false; }
  // Like Next, into `batch` (cleared first); `keyset`: the columns whose values each row also
  // gives (for a watermark), in that order.
  virtual Result<bool> NextEncoded(EncodedBatch* batch, const std::vector<size_t>& keyset) {
    (void)batch;
    (void)keyset;
    return Internal("this reader cannot encode records");
  }
  // Readers that can write each cell's DynamoDB AttributeValue from the server's text (the
  // PostgreSQL keyset pages). Use one of Next and NextAttributes for a whole table.
  virtual bool CanEncodeAttributes() const { return false; }
  // Like Next, into `batch` (cleared first); `values`: the columns whose values each row also
  // gives, in that order.
  virtual Result<bool> NextAttributes(AttributeBatch* batch, const std::vector<size_t>& values) {
    (void)batch;
    (void)values;
    return Internal("this reader cannot encode attribute values");
  }
};

// Reads the next batch of `inner` on its own thread while the caller works on the last one
// (memory: one batch more, never two). Destroying it mid-table waits for the batch being read.
// With `attributes`, it reads with NextAttributes (those value columns) and answers that
// only; else with Next.
class PrefetchReader : public RowReader {
 public:
  explicit PrefetchReader(std::unique_ptr<RowReader> inner,
                          std::optional<std::vector<size_t>> attributes = std::nullopt);
  ~PrefetchReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  bool CanEncodeAttributes() const override { return attributes_.has_value(); }
  Result<bool> NextAttributes(AttributeBatch* batch, const std::vector<size_t>& values) override;

 private:
  void Loop();
  // Waits for the next batch and moves it from `slot` to `batch`.
  template <typename Batch>
  Result<bool> Hand(Batch* batch, Batch& slot);

  std::unique_ptr<RowReader> inner_;
  std::optional<std::vector<size_t>> attributes_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false, closing_ = false;
  RecordBatch next_;
  AttributeBatch next_attributes_;
  Result<bool> more_ = true;
  std::thread thread_;
};

// A RowReader's batches as snapshot changes: every row an insert, each batch with its
// position (ordered reads). Owns the RowReader.
class SnapshotChangeReader : public ChangeReader {
 public:
  explicit SnapshotChangeReader(std::unique_ptr<RowReader> rows) : rows_(std::move(rows)) {}
  Result<bool> Next(ChangeBatch* batch) override;

 private:
  std::unique_ptr<RowReader> rows_;
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
  // Whether some index of `table` starts with `column` (so an ordered read by it needs no
  // sort of the whole table); true when the engine cannot tell.
  virtual Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) {
    (void)table;
    (void)column;
    return true;
  }
};

// A row's backup record (without its newline): a SQL row as an object keyed by column (plain
// JSON, docs/formats.md), a MongoDB document as canonical Extended JSON; each column's `"name":`
// encoded once for the table.
class RecordWriter {
 public:
  explicit RecordWriter(const TableInfo& table);
  void Append(const std::vector<Value>& row, std::string& out) const;
  // A SQL record of the first `columns` columns (at most the table's), each value written by
  // `value(i, out)`: for readers that write values from their own text.
  template <typename ValueWriter>
  void AppendSql(size_t columns, const ValueWriter& value, std::string& out) const {
    if (columns == 0) out += '{';
    for (size_t i = 0; i < columns; ++i) {
      out += keys_[i];
      value(i, out);
    }
    out += '}';
  }

 private:
  bool mongo_;
  std::vector<std::string> keys_;  // `{"name":` then `,"name":`
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
