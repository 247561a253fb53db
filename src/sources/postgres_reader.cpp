// The PostgreSQL source's reader (sources/postgres_internal.h): a full read is one COPY
// (SELECT ...) TO STDOUT streamed a line at a time; an ordered read is a cursor declared in
// the source's read transaction and fetched a page ahead. Rows come as Values or as cells.
#include <libpq-fe.h>

#include "core/strings.h"
#include "sources/postgres_internal.h"

namespace di::postgres_internal {

void PgReader::DropAhead() {
  if (!in_flight_) return;
  // The FETCH moved the cursor: its rows are kept for the next ReadPage.
  PGconn* conn = src_.conn(this);
  ahead_ = PQgetResult(conn);
  while (PGresult* r = PQgetResult(conn)) PQclear(r);
  in_flight_ = false;
  src_.set_ahead(nullptr);
}

void PgReader::Close() {
  DropAhead();
  if (ahead_) PQclear(ahead_);
  ahead_ = nullptr;
  if (cursor_.empty()) return;
  src_.Exec("CLOSE " + cursor_).ok();  // fails harmlessly in an aborted transaction
  cursor_.clear();
  src_.EndRead();
}

PgReader::~PgReader() {
  if (line_buf_) PQfreemem(line_buf_);
  Close();  // the connection free for the next command
  if (in_copy_) {
    // Drop the rest of the COPY stream so the connection can be reused.
    PGconn* conn = src_.conn(this);
    PQrequestCancel(conn);
    char* buf = nullptr;
    while (PQgetCopyData(conn, &buf, 0) > 0) PQfreemem(buf);
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
  }
}

Result<bool> PgReader::Next(RecordBatch* batch) {
  batch->clear();
  if (done_) return false;
  return options_.ordered() ? NextPage(batch) : NextCopy(batch);
}

Status PgReader::StartCopy() {
  started_ = true;
  std::string sql = "COPY (SELECT ";
  for (size_t i = 0; i < table_.columns.size(); ++i)
    sql += (i ? ", " : "") + QuoteIdent(table_.columns[i].name);
  sql += " FROM " + QuoteTable(table_.name);
  if (!table_.primary_key.empty()) {
    sql += " ORDER BY ";
    for (size_t i = 0; i < table_.primary_key.size(); ++i)
      sql += (i ? ", " : "") + QuoteIdent(table_.primary_key[i]);
  }
  sql += ") TO STDOUT";
  PGresult* r = PQexec(src_.conn(this), sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COPY_OUT;
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (!ok)
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  in_copy_ = true;
  return Status::Ok();
}

Result<bool> PgReader::NextLine() {
  if (line_buf_) {
    PQfreemem(line_buf_);
    line_buf_ = nullptr;
  }
  if (done_) return false;
  if (!started_) RETURN_IF_ERROR(StartCopy());
  PGconn* conn = src_.conn(this);
  int n = PQgetCopyData(conn, &line_buf_, 0);
  if (n == -1) {  // end of the COPY
    in_copy_ = false;
    done_ = true;
    PGresult* r = PQgetResult(conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    while (PGresult* more = PQgetResult(conn)) PQclear(more);
    if (!ok)
      return Unavailable(src_.Where() + ": reading table '" + table_.name +
                         "' failed: " + std::string(Trim(err)));
    return false;
  }
  if (n < 0) {  // the connection failed: nothing of it is held from here (RowReader)
    in_copy_ = false;
    done_ = true;
    return src_.Error("reading table '" + table_.name + "' failed");
  }
  std::string_view line(line_buf_, static_cast<size_t>(n));
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // The fields, still COPY-escaped ("\N": NULL); missing ones (a short line) are empty.
  fields_.resize(convs_.size());
  size_t start = 0;
  for (size_t i = 0; i < convs_.size(); ++i) {
    size_t tab = line.find('\t', start);
    fields_[i] =
        line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    start = tab == std::string_view::npos ? line.size() : tab + 1;
  }
  escaped_.assign(convs_.size(), 0);
  size_t f = 0;
  for (size_t at = line.find('\\'); at != std::string_view::npos; at = line.find('\\', at + 2)) {
    while (f + 1 < fields_.size() && fields_[f + 1].data() <= line.data() + at) ++f;
    if (f < escaped_.size()) escaped_[f] = 1;
  }
  return true;
}

Value PgReader::FieldValue(size_t i) {
  if (IsNull(i)) return Null{};
  return src_.Convert(convs_[i], Field(i));
}

Result<bool> PgReader::NextCopy(RecordBatch* batch) {
  while (batch->rows.size() < options_.batch_size) {
    ASSIGN_OR_RETURN(bool more, NextLine());
    if (!more) break;
    std::vector<Value> row;
    row.reserve(convs_.size());
    for (size_t i = 0; i < convs_.size(); ++i) row.push_back(FieldValue(i));
    batch->rows.push_back(std::move(row));
  }
  return !batch->rows.empty() || !done_;
}

Result<bool> PgReader::NextPage(RecordBatch* batch) {
  ASSIGN_OR_RETURN(PGresult * r, ReadPage());
  if (!r) return false;
  src_.AppendRows(r, convs_, &batch->rows);
  PQclear(r);
  batch->last = options_.after;
  return true;
}

PgReader::PgReader(PgSource& src, TableInfo t, ReadOptions o, std::vector<ColumnConv> convs)
    : src_(src), table_(std::move(t)), options_(std::move(o)), convs_(std::move(convs)) {
  for (const auto& c : convs_) kinds_.push_back(src_.CellTextOf(c));
}

Value PgReader::Decode(size_t column, std::string_view text) const {
  return src_.Convert(convs_[column], text);
}

Result<bool> PgReader::NextCells(CellBatch* batch) {
  batch->clear();
  batch->kinds = kinds_;
  batch->decoder = this;
  if (done_) return false;
  return options_.ordered() ? NextPageCells(batch) : NextCopyCells(batch);
}

Result<bool> PgReader::NextCopyCells(CellBatch* batch) {
  size_t rows = 0;
  for (; rows < options_.batch_size; ++rows) {
    ASSIGN_OR_RETURN(bool more, NextLine());
    if (!more) break;
    for (size_t i = 0; i < convs_.size(); ++i) {
      const bool null = IsNull(i);
      batch->Add(null ? std::string_view() : Field(i), null);
    }
  }
  return rows > 0 || !done_;
}

Result<bool> PgReader::NextPageCells(CellBatch* batch) {
  ASSIGN_OR_RETURN(PGresult * r, ReadPage());
  if (!r) return false;
  const int rows = PQntuples(r), columns = PQnfields(r);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < columns; ++j)
      batch->Add(std::string_view(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))),
                 PQgetisnull(r, i, j));
  PQclear(r);
  batch->last = options_.after;
  return true;
}

Status PgReader::Declare() {
  std::string cols;
  for (size_t i = 0; i < table_.columns.size(); ++i)
    cols += (i ? ", " : "") + QuoteIdent(table_.columns[i].name);
  // The position's values go as typed parameters.
  std::vector<std::string> params;
  std::string sql =
      "SELECT " + cols + " FROM " + QuoteTable(table_.name) +
      OrderedReadTail(table_, options_, QuoteIdent, [&](size_t column, const Value& v) {
        params.push_back(src_.TextFor(convs_[column], v));
        return "$" + std::to_string(params.size()) + "::" + table_.columns[column].source_type;
      });
  RETURN_IF_ERROR(src_.BeginRead());
  std::string name = src_.NewCursorName();
  std::string declare = "DECLARE " + name + " NO SCROLL CURSOR FOR " + sql;
  std::vector<const char*> p;
  for (const auto& x : params) p.push_back(x.c_str());
  PGresult* r = PQexecParams(src_.conn(this), declare.c_str(), static_cast<int>(p.size()), nullptr,
                             p.data(), nullptr, nullptr, 0);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string err = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!ok) {
    src_.EndRead();
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  }
  cursor_ = std::move(name);
  return Status::Ok();
}

bool PgReader::SendFetch() {
  std::string sql = "FETCH " + std::to_string(options_.batch_size) + " FROM " + cursor_;
  in_flight_ = PQsendQueryParams(src_.conn(this), sql.c_str(), 0, nullptr, nullptr, nullptr,
                                 nullptr, 0) == 1;
  if (in_flight_) src_.set_ahead(this);
  return in_flight_;
}

Result<PGresult*> PgReader::ReadPage() {
  if (cursor_.empty()) RETURN_IF_ERROR(Declare());
  PGresult* r = ahead_;
  ahead_ = nullptr;
  if (!r) {
    if (!in_flight_ && !SendFetch()) {
      Status s = src_.Error("reading table '" + table_.name + "' failed");
      done_ = true;
      Close();
      return s;
    }
    PGconn* conn = src_.conn(this);
    r = PQgetResult(conn);
    in_flight_ = false;
    src_.set_ahead(nullptr);
    while (PGresult* more = PQgetResult(conn)) PQclear(more);
  }
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = r ? PQresultErrorMessage(r) : PQerrorMessage(src_.conn(this));
    PQclear(r);
    done_ = true;
    Close();
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  }
  const int rows = PQntuples(r);
  if (static_cast<size_t>(rows) < options_.batch_size) done_ = true;
  if (done_) Close();
  if (rows == 0) {
    PQclear(r);
    return nullptr;
  }
  // The page's last row is where a resumed read starts; the next FETCH goes out now, so the
  // server reads it while this page is converted.
  const std::vector<size_t> idx = OrderColumns(table_, options_);
  std::vector<Value> last(table_.columns.size());
  for (size_t i : idx) last[i] = src_.Cell(r, rows - 1, static_cast<int>(i), convs_[i]);
  options_.after = PositionIn(last, idx, options_.by_key);
  if (!done_) SendFetch();
  return r;
}

}  // namespace di::postgres_internal
