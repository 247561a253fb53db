// The MySQL / MariaDB source's reader (sources/mysql_internal.h): every read is one query
// streamed unbuffered (mysql_use_result), rows as Values or as cells; another command on the
// connection interrupts it, and an ordered read then asks again from its last position. While
// its source serves lookups, an ordered read asks for one batch at a time instead (a stored
// page), holding the connection only while a page comes.
#include <mysql.h>

#include "core/strings.h"
#include "sources/mysql_internal.h"

namespace di::mysql_internal {

MySqlReader::MySqlReader(MySqlSource& src, TableInfo table, ReadOptions options,
                         std::vector<ColumnConv> convs)
    : src_(src), table_(std::move(table)), options_(std::move(options)), convs_(std::move(convs)) {
  for (const auto& c : convs_) kinds_.push_back(src_.CellTextOf(c));
  paged_ = src_.serving_lookups() && options_.ordered() && options_.batch_size > 0;
}

Value MySqlReader::Decode(size_t column, std::string_view text) const {
  return src_.Convert(convs_[column], text.data(), text.size());
}

MySqlReader::~MySqlReader() {
  if (res_) mysql_free_result(res_);
  if (src_.streaming() == this) src_.set_streaming(nullptr);
}

void MySqlReader::Fail() {
  if (res_) mysql_free_result(res_);
  res_ = nullptr;
  if (src_.streaming() == this) src_.set_streaming(nullptr);
  done_ = true;
}

void MySqlReader::Interrupt() {
  if (res_) mysql_free_result(res_);  // reads what is left of the result
  res_ = nullptr;
  src_.set_streaming(nullptr);
  started_ = false;
  if (!options_.ordered()) interrupted_ = true;
}

Result<bool> MySqlReader::Next(RecordBatch* batch) {
  batch->clear();
  if (done_) return false;
  return options_.ordered() ? NextOrdered(batch) : NextStreamed(batch);
}

Result<bool> MySqlReader::NextRow(MYSQL_ROW* row, unsigned long** len) {
  if (done_) return false;
  if (interrupted_)
    return Internal(src_.Where() + ": reading table '" + table_.name +
                    "' was interrupted by another command on its connection");
  if (paged_) {
    // A page ends each batch (its size): a full one is followed by the next, from the batch's
    // last position; a short one was the table's end.
    if (started_ && !(*row = mysql_fetch_row(res_)) && page_rows_ == options_.batch_size) {
      mysql_free_result(res_);
      res_ = nullptr;
      started_ = false;
    }
    if (!started_) {
      std::lock_guard<std::recursive_mutex> turn(src_.connection_mutex());
      RETURN_IF_ERROR(Start(src_.db(this)));
      *row = mysql_fetch_row(res_);
    }
  } else {
    if (!started_) RETURN_IF_ERROR(Start(src_.db(this)));
    *row = mysql_fetch_row(res_);
    if (!*row && mysql_errno(src_.db(this)) != 0) {
      Status s = src_.Error("reading table '" + table_.name + "' failed");
      Fail();
      return s;
    }
  }
  if (!*row) {
    mysql_free_result(res_);
    res_ = nullptr;
    // Only a streamed read holds the connection (Start); a paged one has nothing to give back,
    // and its source's lookups, on another thread, read streaming() between its pages.
    if (!paged_) src_.set_streaming(nullptr);
    done_ = true;
    return false;
  }
  ++page_rows_;
  *len = mysql_fetch_lengths(res_);
  return true;
}

Status MySqlReader::Start(MYSQL* db) {
  page_rows_ = 0;
  std::string sql = SelectSql();
  if (paged_) sql += " LIMIT " + std::to_string(options_.batch_size);
  if (mysql_real_query(db, sql.data(), sql.size()) != 0)
    return src_.Error("reading table '" + table_.name + "' failed");
  res_ = paged_ ? mysql_store_result(db) : mysql_use_result(db);
  if (!res_) return src_.Error("reading table '" + table_.name + "' failed");
  started_ = true;
  if (!paged_) src_.set_streaming(this);
  return Status::Ok();
}

Result<bool> MySqlReader::NextStreamed(RecordBatch* batch) {
  while (batch->rows.size() < options_.batch_size) {
    MYSQL_ROW row;
    unsigned long* len;
    ASSIGN_OR_RETURN(bool more, NextRow(&row, &len));
    if (!more) break;
    batch->rows.push_back(src_.RowValues(res_, row, convs_));
  }
  return !batch->rows.empty() || !done_;
}

Result<bool> MySqlReader::NextCells(CellBatch* batch) {
  batch->clear();
  batch->kinds = kinds_;
  batch->decoder = this;
  if (done_) return false;
  size_t rows = 0;
  for (; rows < options_.batch_size; ++rows) {
    MYSQL_ROW row;
    unsigned long* len;
    ASSIGN_OR_RETURN(bool more, NextRow(&row, &len));
    if (!more) break;
    for (size_t i = 0; i < convs_.size(); ++i)
      batch->Add(row[i] ? std::string_view(row[i], len[i]) : std::string_view(), !row[i]);
  }
  if (rows == 0) return false;
  if (options_.ordered()) {
    const std::vector<size_t> idx = OrderColumns(table_, options_);
    std::vector<Value> last(convs_.size());
    for (size_t i : idx) last[i] = batch->value(rows - 1, i);
    options_.after = PositionIn(last, idx, options_.by_key);
    batch->last = options_.after;
  }
  return true;
}

std::string MySqlReader::SelectSql() {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < table_.columns.size(); ++i)
    sql += (i ? ", " : "") + Quote(table_.columns[i].name);
  sql += " FROM " + Quote(table_.name);
  if (!options_.ordered()) {
    if (!table_.primary_key.empty()) {
      sql += " ORDER BY ";
      for (size_t i = 0; i < table_.primary_key.size(); ++i)
        sql += (i ? ", " : "") + Quote(table_.primary_key[i]);
    }
    return sql;
  }
  // (cursor, pk...) or (pk...) > (after), in that order, written out: MariaDB ranges over
  // "a > 1 OR (a = 1 AND b > 2)" but scans the whole key for "(a, b) > (1, 2)".
  return sql +
         OrderedReadTail(
             table_, options_, Quote,
             [&](size_t column, const Value& v) { return src_.LiteralFor(convs_[column], v); },
             /*expand=*/true);
}

Result<bool> MySqlReader::NextOrdered(RecordBatch* batch) {
  ASSIGN_OR_RETURN(bool more, NextStreamed(batch));
  if (batch->rows.empty()) return false;
  options_.after = PositionIn(batch->rows.back(), OrderColumns(table_, options_), options_.by_key);
  batch->last = options_.after;
  return more;
}

}  // namespace di::mysql_internal
