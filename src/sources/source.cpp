#include "sources/source.h"

#include <algorithm>

namespace di {

PrefetchReader::PrefetchReader(std::unique_ptr<RowReader> inner, bool cells)
    : inner_(std::move(inner)), cells_(cells) {
  thread_ = std::thread([this] { Loop(); });
}

PrefetchReader::~PrefetchReader() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PrefetchReader::Loop() {
  RecordBatch batch;
  CellBatch cells;
  while (true) {
    {  // Read only into an empty slot: two batches at most, the caller's and this one.
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !ready_ || closing_; });
      if (closing_) return;
    }
    Result<bool> more = cells_ ? inner_->NextCells(&cells) : inner_->Next(&batch);
    bool last = !more.ok() || !*more;
    std::lock_guard lock(mu_);
    if (closing_) return;
    // Swapped, not moved: the caller's last batch comes back here, its buffers reused.
    std::swap(next_, batch);
    std::swap(next_cells_, cells);
    more_ = std::move(more);
    ready_ = true;
    cv_.notify_all();
    if (last) return;
  }
}

template <typename Batch>
Result<bool> PrefetchReader::Hand(Batch* batch, Batch& slot) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return ready_; });
  Result<bool> more = more_;
  batch->clear();
  if (!more.ok() || !*more) return more;  // the end (or an error) stays the answer
  std::swap(*batch, slot);
  ready_ = false;
  cv_.notify_all();
  return more;
}

Result<bool> PrefetchReader::Next(RecordBatch* batch) {
  if (cells_) return Internal("this reader was opened for cells");
  return Hand(batch, next_);
}

Result<bool> PrefetchReader::NextCells(CellBatch* batch) {
  if (!cells_) return Internal("this reader was opened for values");
  return Hand(batch, next_cells_);
}

Result<bool> SnapshotChangeReader::Next(ChangeBatch* batch) {
  // Cleared, not replaced: a caller that hands the same batch back keeps its buffers.
  batch->sequence = 0;
  batch->ops.clear();
  batch->rows.clear();
  batch->last.reset();
  batch->high_water.reset();
  batch->log = LogPosition();
  if (cells_ && rows_->CanReadCells()) {
    batch->has_cells = true;
    ASSIGN_OR_RETURN(bool more, rows_->NextCells(&batch->cells));
    batch->last = batch->cells.last;
    return more;
  }
  batch->has_cells = false;
  ASSIGN_OR_RETURN(bool more, rows_->Next(&scratch_));
  if (!more) return false;
  std::swap(batch->rows, scratch_.rows);
  batch->last = std::move(scratch_.last);
  return true;
}

std::vector<size_t> KeysetColumns(const TableInfo& table) {
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == name) return i;
    return size_t{0};
  };
  std::vector<size_t> idx{index_of(table.cursor_column)};
  for (const auto& k : table.primary_key) idx.push_back(index_of(k));
  return idx;
}

bool NullableCursor(const TableInfo& table) {
  if (table.engine == Engine::kMongo || table.cursor_column.empty()) return false;
  for (const auto& c : table.columns)
    if (c.name == table.cursor_column) return c.nullable;
  return false;
}

std::vector<size_t> OrderColumns(const TableInfo& table, const ReadOptions& options) {
  if (!options.by_key) return KeysetColumns(table);
  std::vector<size_t> idx;
  for (const auto& k : table.primary_key)
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == k) idx.push_back(i);
  return idx;
}

Position PositionIn(const std::vector<Value>& row, const std::vector<size_t>& order, bool by_key) {
  if (!by_key) return PositionOf(row, order);
  Position p{Null{}, {}};
  for (size_t i : order) p.key.push_back(row[i]);
  return p;
}

namespace {
// (cols) op (vals) written out, op ">" or "<=": the first column past the value, or equal and
// the rest compared the same way (the last column with `op` itself).
std::string WrittenOut(const std::vector<std::string>& cols, const std::vector<std::string>& vals,
                       const std::string& op, size_t from = 0) {
  const std::string strict = op == ">" ? " > " : " < ";
  if (from + 1 >= cols.size()) return cols[from] + " " + op + " " + vals[from];
  return "(" + cols[from] + strict + vals[from] + " OR (" + cols[from] + " = " + vals[from] +
         " AND " + WrittenOut(cols, vals, op, from + 1) + "))";
}
}  // namespace

std::string OrderedReadTail(const TableInfo& table, const ReadOptions& options,
                            const std::function<std::string(std::string_view)>& quote,
                            const std::function<std::string(size_t, const Value&)>& value,
                            bool expand) {
  const std::vector<size_t> idx = OrderColumns(table, options);
  std::string order;
  for (size_t i = 0; i < idx.size(); ++i)
    order += (i ? ", " : "") + quote(table.columns[idx[i]].name);
  // The position's values, in `order`'s columns.
  auto values = [&](const Position& a) {
    std::vector<std::string> rhs;
    if (!options.by_key) rhs.push_back(value(idx[0], a.cursor));
    const size_t first_key = options.by_key ? 0 : 1;
    for (size_t i = 0; i < a.key.size() && i + first_key < idx.size(); ++i)
      rhs.push_back(value(idx[i + first_key], a.key[i]));
    return rhs;
  };
  // (order) op (the position), op ">" or "<=".
  auto compare = [&](const std::string& op, const Position& a) {
    const std::vector<std::string> vals = values(a);
    if (expand && vals.size() > 1) {
      std::vector<std::string> cols;
      for (size_t i = 0; i < vals.size(); ++i) cols.push_back(quote(table.columns[idx[i]].name));
      return WrittenOut(cols, vals, op);
    }
    std::string rhs;
    for (const auto& v : vals) rhs += (rhs.empty() ? "" : ", ") + v;
    return "(" + order + ") " + op + " (" + rhs + ")";
  };
  std::string sql;
  if (options.after) {
    const Position& a = *options.after;
    if (!options.by_key && a.key.empty())
      sql += " WHERE " + quote(table.cursor_column) + " > " + values(a)[0];
    else
      sql += " WHERE " + compare(">", a);
  }
  if (options.by_key && options.until)
    sql += (sql.empty() ? " WHERE " : " AND ") + compare("<=", *options.until);
  return sql + " ORDER BY " + order;
}

Status CheckKeysetRead(const std::string& where, const TableInfo& table,
                       const ReadOptions& options) {
  if (options.by_key) {
    if (table.primary_key.empty())
      return InvalidArgument(where + ": table '" + table.name +
                             "' has no primary key, so it cannot be read in key order; it can "
                             "only be read in one pass");
    for (const auto* p : {&options.after, &options.until})
      if (*p && (*p)->key.size() != table.primary_key.size())
        return InvalidArgument(where + ": table '" + table.name + "': a position of " +
                               std::to_string((*p)->key.size()) +
                               " key values does not fit its primary key of " +
                               std::to_string(table.primary_key.size()) + " columns");
    return Status::Ok();
  }
  if (options.incremental && (table.cursor_column.empty() || table.primary_key.empty()))
    return InvalidArgument(
        where + ": table '" + table.name +
        "' needs a change-tracking column and a primary key for incremental reads");
  if (!(options.incremental || options.after) || !NullableCursor(table)) return Status::Ok();
  return InvalidArgument(where + ": table '" + table.name + "': its change-tracking column '" +
                         table.cursor_column +
                         "' allows NULL, and a row with NULL there has no place after a "
                         "watermark, so changes cannot be tracked by it (migrate and backup "
                         "read the table in full); make it NOT NULL (after filling its NULLs) "
                         "or track another column");
}

Position PositionOf(const std::vector<Value>& row, const std::vector<size_t>& keyset) {
  Position p{row[keyset[0]], {}};
  for (size_t i = 1; i < keyset.size(); ++i) p.key.push_back(row[keyset[i]]);
  return p;
}

}  // namespace di
