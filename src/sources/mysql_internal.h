// What the pieces of the MySQL / MariaDB source (sources/mysql_source.h) share: the
// per-column conversions (Conv), the source (MySqlSource) and its reader (MySqlReader).
// Internal to mysql_*.cpp; nothing here is a contract.
//   mysql_source.cpp   the connection, the catalog, a pinned snapshot and lookups
//   mysql_conv.cpp     column type -> Conv, result text -> Value, Value -> SQL literal
//   mysql_reader.cpp   reads: one query streamed unbuffered (mysql_use_result)
// The source owns its connection and closes it; a reader borrows it (and holds it while its
// result streams), so the source outlives its readers. Not thread-safe, with one exception: a
// source serving lookups in its snapshot (ServeLookupsInSnapshot) takes Lookup calls from
// one other thread, its readers and Lookup taking turns on the connection under conn_mu_.
// Failures are Status values naming the server (Where()); none throws.
#pragma once

#include <mysql.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/cells.h"
#include "sources/mysql_source.h"

namespace di::mysql_internal {

enum class Conv {
  kBool,
  kInt,
  kUInt,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kDateTime,
  kTimestamp,
  kTime,
  kJson,
  kBit
};

struct ColumnConv {
  Conv conv = Conv::kString;
};

std::string Quote(std::string_view ident);

class MySqlSource;

class MySqlReader : public RowReader, public CellDecoder {
 public:
  MySqlReader(MySqlSource& src, TableInfo table, ReadOptions options,
              std::vector<ColumnConv> convs);
  ~MySqlReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  // Cells from the streamed result's text.
  bool CanReadCells() const override { return true; }
  Result<bool> NextCells(CellBatch* batch) override;
  Value Decode(size_t column, std::string_view text) const override;
  // The read failed: its result is freed now, while its connection still exists (RowReader).
  void Fail();
  // Another command needs the connection: the streamed result is read to its end and freed.
  // An ordered read asks again from its last batch's position at its next batch (the rest
  // of the table then comes from a later snapshot); a full read fails there.
  void Interrupt();

 private:
  // Every read is one streamed query (mysql_use_result, one InnoDB consistent read):
  // the full read in primary-key order, an ordered read from options_.after in its order;
  // a paged read asks for one batch at a time (LIMIT, the result stored).
  std::string SelectSql();
  // Sends the read's query (its next page when paged) and takes its result.
  Status Start(MYSQL* db);
  // The next row of the streamed query (its lengths in *len); false at the end.
  Result<bool> NextRow(MYSQL_ROW* row, unsigned long** len);
  Result<bool> NextStreamed(RecordBatch* batch);
  Result<bool> NextOrdered(RecordBatch* batch);

  MySqlSource& src_;
  TableInfo table_;
  ReadOptions options_;
  std::vector<ColumnConv> convs_;
  MYSQL_RES* res_ = nullptr;
  bool started_ = false;
  bool done_ = false;
  bool interrupted_ = false;     // a full read's result was freed for another command
  bool paged_ = false;           // its source serves lookups: one stored page per batch
  size_t page_rows_ = 0;         // rows fetched from the current page
  std::vector<CellText> kinds_;  // per column: how its text reads
};

class MySqlSource : public Source {
 public:
  explicit MySqlSource(SqlSourceOptions o) : o_(std::move(o)) {}
  ~MySqlSource() override;

  Status Connect();

  Engine engine() const override { return Engine::kMySql; }

  Result<std::vector<std::string>> ListTables() override;
  Result<TableInfo> Describe(const std::string& table, const std::string& cursor_column) override;
  Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                          const ReadOptions& options) override;
  // A transaction WITH CONSISTENT SNAPSHOT on the reading connection: every read opened next
  // (and a streamed read asked again after an interruption) sees that one snapshot, whose
  // binlog place MariaDB gives (Binlog_snapshot_file/position) and BINLOG_GTID_POS names.
  Result<LogPosition> PinSnapshot() override;
  void ReleaseSnapshot() override;
  // No SharedSnapshot: MariaDB cannot export one, and a second consistent snapshot opened
  // at the same binlog place is not the same snapshot (under continuous writes the two
  // differed, even with commits held meanwhile). So the pinned source serves the table's
  // lookups itself, on its connection, in its one snapshot (docs/architecture.md).
  bool ServeLookupsInSnapshot() override;
  bool serving_lookups() const { return serving_; }
  // The last error was the connection's (the server gone or restarting, the session killed).
  bool ConnectionLost() const override { return lost_.load(); }
  // A new connection; a pinned snapshot (a transaction of the lost one) is opened again, a new
  // one, with a note.
  Status Reconnect(std::string* note) override;
  Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) override;
  int64_t EstimateRows(const TableInfo& table) override;
  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table, const std::string& column,
                                                 const std::vector<Value>& values) override;

  // --- used by the reader
  // The connection, for `by` (null: the source itself): another reader's streamed result is
  // interrupted first.
  MYSQL* db(MySqlReader* by = nullptr);
  // Held by whoever uses the connection (a paged read's page, Lookup, Describe, Query, Exec),
  // so a source serving lookups takes them from another thread in turns; uncontended
  // otherwise. Recursive: Describe holds it across its queries.
  std::recursive_mutex& connection_mutex() { return conn_mu_; }
  void set_streaming(MySqlReader* reader) { streaming_ = reader; }
  MySqlReader* streaming() const { return streaming_; }
  const SqlSourceOptions& options() const { return o_; }
  std::string Where() const;
  Status Error(const std::string& what, StatusCode code = StatusCode::kUnavailable);
  Status Exec(const std::string& sql);
  std::string Literal(std::string_view s);

  Value Convert(const ColumnConv& c, const char* p, unsigned long len) const;
  // How a column's text reads for the sinks' encoders (core/cells.h).
  CellText CellTextOf(const ColumnConv& c) const;
  // The current row of `res` as Values (NULL for SQL NULL).
  std::vector<Value> RowValues(MYSQL_RES* res, MYSQL_ROW row,
                               const std::vector<ColumnConv>& convs) const;
  std::string LiteralFor(const ColumnConv& c, const Value& v);

 private:
  static ColumnConv ConvFor(const std::string& type);

  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql);

  SqlSourceOptions o_;
  MYSQL* db_ = nullptr;
  MySqlReader* streaming_ = nullptr;  // the reader whose streamed result holds the connection
  bool in_snapshot_ = false;          // a PinSnapshot transaction is open
  bool serving_ = false;              // ServeLookupsInSnapshot, until ReleaseSnapshot
  std::recursive_mutex conn_mu_;
  std::atomic<bool> lost_{false};  // set by Error (any thread), cleared by Reconnect
};

}  // namespace di::mysql_internal
