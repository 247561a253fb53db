// What the pieces of the PostgreSQL source (sources/postgres_source.h) share: the
// per-column conversions (Conv), the source (PgSource) and its reader (PgReader). Internal
// to postgres_*.cpp; nothing here is a contract.
//   postgres_session.cpp   the connection: connecting, queries, the read transaction
//   postgres_source.cpp    the catalog (tables, columns, indexes, estimates) and lookups
//   postgres_snapshot.cpp  a pinned snapshot: a temporary logical replication slot; joining
//                          another source's pinned snapshot (the lookups)
//   postgres_conv.cpp      column text -> Value (Conv), Value -> query parameter text
//   postgres_reader.cpp    reads: COPY ... TO STDOUT, or a cursor fetched a page at a time
// The source owns its connection (and a pinned snapshot's replication connection) and
// closes them; a reader borrows the source's connection, so the source outlives its readers.
// Not thread-safe: a source and its readers belong to one worker. Failures are Status values
// naming the server (Where()); none throws.
#pragma once

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/cells.h"
#include "sources/postgres_source.h"

namespace di::postgres_internal {

// How one column's text becomes a Value; arrays carry their element's conversion.
enum class Conv {
  kBool,
  kInt,
  kDouble,
  kDecimal,
  kMoney,  // "-$1,234.56" (the session's lc_monetary is C) -> the Decimal "-1234.56"
  kString,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kJson,
  kArray
};

struct ColumnConv {
  Conv conv = Conv::kString;
  Conv element = Conv::kString;  // for kArray
};

// The conversion of a column of type `oid`; `typtype` 'e' for an enum.
Conv ConvForOid(unsigned oid, char typtype);

std::string QuoteIdent(std::string_view ident);
// "schema.table" or "table" (public) -> quoted identifier.
std::string QuoteTable(const std::string& name);

// Undoes COPY text escaping of one field: the field itself when it has no escapes, else the
// unescaped text in `out`.
std::string_view CopyUnescape(std::string_view s, std::string& out);

class PgSource;

class PgReader : public RowReader, public CellDecoder {
 public:
  PgReader(PgSource& src, TableInfo t, ReadOptions o, std::vector<ColumnConv> convs);
  ~PgReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  // Cells from the COPY text (full reads) or from the cursor's pages (ordered reads).
  bool CanReadCells() const override { return true; }
  Result<bool> NextCells(CellBatch* batch) override;
  Value Decode(size_t column, std::string_view text) const override;
  // Reads and drops the result of a page asked for ahead (the next ReadPage asks again).
  void DropAhead();

 private:
  Status StartCopy();
  // The next COPY line split into fields_ (valid until the next call); false at the end.
  Result<bool> NextLine();
  Value FieldValue(size_t column);
  // Field `column`, unescaped (not NULL).
  std::string_view Field(size_t column) {
    return escaped_[column] ? CopyUnescape(fields_[column], scratch_) : fields_[column];
  }
  bool IsNull(size_t column) const { return escaped_[column] && fields_[column] == "\\N"; }
  Result<bool> NextCopy(RecordBatch* batch);
  Result<bool> NextPage(RecordBatch* batch);
  Result<bool> NextCopyCells(CellBatch* batch);
  Result<bool> NextPageCells(CellBatch* batch);
  // Ordered reads are one query, a cursor declared in the source's read transaction (one
  // snapshot), fetched a page of batch_size rows at a time.
  Status Declare();
  // The next page (null once the table is done); the reader records its last row's position
  // (options_.after) and sends the FETCH of the page after it.
  Result<PGresult*> ReadPage();
  // Sends the next FETCH; false when it could not be sent.
  bool SendFetch();
  // Closes the cursor and ends this read in the source's transaction.
  void Close();

  PgSource& src_;
  TableInfo table_;
  ReadOptions options_;
  std::vector<ColumnConv> convs_;
  bool in_copy_ = false;
  bool in_flight_ = false;     // a FETCH sent, its result not yet read
  PGresult* ahead_ = nullptr;  // a FETCH's result read early (another command needed the conn)
  std::string cursor_;         // the declared cursor's name; "" before Declare and after Close
  bool started_ = false;
  bool done_ = false;
  char* line_buf_ = nullptr;  // the COPY line fields_ point into
  std::vector<std::string_view> fields_;
  std::string scratch_;          // an unescaped field
  std::vector<char> escaped_;    // per field: it holds a backslash (an escape, or NULL's \N)
  std::vector<CellText> kinds_;  // per column: how its text reads
};

class PgSource : public Source {
 public:
  explicit PgSource(SqlSourceOptions o) : o_(std::move(o)) {}
  ~PgSource() override;

  // `replication`: a walsender connection (replication=database), for the snapshot's slot.
  PGconn* Open(bool replication);
  Status Connect();

  Engine engine() const override { return Engine::kPostgres; }

  Result<LogPosition> PinSnapshot() override;
  void ReleaseSnapshot() override;
  // The exported snapshot's name (PinSnapshot's), "" when none is pinned.
  Result<std::string> SharedSnapshot() override { return snapshot_; }
  // A REPEATABLE READ READ ONLY transaction importing `token` (SET TRANSACTION SNAPSHOT),
  // held until LeaveSnapshot: lookups run in it, and reads opened meanwhile nest in it.
  // Never false: an import is exact or an error.
  Result<bool> JoinSnapshot(const std::string& token, std::string* missed) override;
  void LeaveSnapshot() override;
  // The session or its socket ended (PQstatus bad).
  bool ConnectionLost() const override { return conn_ && PQstatus(conn_) == CONNECTION_BAD; }
  // A new session; the pinned snapshot is kept while its slot's session lives (the reads
  // opened next import it again), else let go with a note.
  Status Reconnect(std::string* note) override;

  Result<std::vector<std::string>> ListTables() override;
  Result<TableInfo> Describe(const std::string& table, const std::string& cursor_column) override;
  Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                          const ReadOptions& options) override;
  Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) override;
  int64_t EstimateRows(const TableInfo& table) override;
  // A lookup whose session was ended (a DBA's pg_terminate_backend) is tried once more on a
  // new one, back in the joined snapshot, when no read is open on the connection.
  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table, const std::string& column,
                                                 const std::vector<Value>& values) override;

  // --- used by the reader
  // The connection, for `by` (null: the source itself): a page another reader asked for
  // ahead is dropped first (that reader asks again when it needs it).
  PGconn* conn(PgReader* by = nullptr);
  void set_ahead(PgReader* reader) { ahead_ = reader; }
  // Ordered reads run in one REPEATABLE READ transaction of the connection (their snapshot,
  // also seen by lookups on it), begun by the first open read and committed by the last.
  // With a pinned snapshot (PinSnapshot), the transaction imports it.
  Status BeginRead();
  void EndRead();
  std::string NewCursorName() { return "di_read_" + std::to_string(++cursors_); }
  std::string Where() const;
  Status Error(const std::string& what);
  Status Exec(const std::string& sql);
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql,
                                                      const std::vector<std::string>& params);

  // The conversions of a described table (described now if it was not yet).
  Result<const std::vector<ColumnConv>*> ConvsOf(const TableInfo& table);
  // Appends the rows of a text-format result as Values.
  void AppendRows(PGresult* r, const std::vector<ColumnConv>& convs,
                  std::vector<std::vector<Value>>* rows) const;

  Value Convert(const ColumnConv& c, std::string_view text) const {
    return Scalar(c.conv, c.element, text);
  }
  // A cell of a text-format result as a Value (NULL for SQL NULL).
  Value Cell(const PGresult* r, int row, int column, const ColumnConv& c) const {
    if (PQgetisnull(r, row, column)) return Null{};
    return Convert(c, std::string_view(PQgetvalue(r, row, column),
                                       static_cast<size_t>(PQgetlength(r, row, column))));
  }
  // How a column's text reads for the sinks' encoders (core/cells.h).
  CellText CellTextOf(const ColumnConv& c) const;
  std::string TextFor(const ColumnConv& c, const Value& v) const;

 private:
  Result<std::vector<std::vector<Value>>> LookupOnce(const TableInfo& table,
                                                     const std::string& column,
                                                     const std::vector<Value>& values);
  static std::vector<ColumnConv> ConvsFrom(const std::vector<std::vector<std::string>>& cols);

  Value Scalar(Conv conv, Conv element, std::string_view s) const;
  Value ParseArray(Conv element, std::string_view s, size_t* pos) const;

  SqlSourceOptions o_;
  PGconn* conn_ = nullptr;
  PGconn* repl_ = nullptr;     // the pinned snapshot's replication session (PinSnapshot)
  std::string snapshot_;       // its exported snapshot
  bool joined_ = false;        // in a JoinSnapshot transaction (which holds one reads_open_)
  std::string joined_token_;   // its snapshot, joined again after a reconnect
  PgReader* ahead_ = nullptr;  // the reader whose next page's query is in flight
  int reads_open_ = 0;         // ordered reads open in the read transaction
  uint64_t cursors_ = 0;       // cursors declared on this connection
  std::map<std::string, std::vector<ColumnConv>> convs_;
};

}  // namespace di::postgres_internal
