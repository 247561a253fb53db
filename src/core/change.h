// The change model: what every reader yields and every sink consumes, whether the rows come
// from a snapshot (a full or ordered read) or, later, from a change log (WAL, binlog, oplog):
// batches of changes (ChangeBatch) over the vocabulary of core/table.h. Plain values: no
// locking; a batch is written by one reader and then only read (the fan-out shares it
// between sinks as const).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cells.h"
#include "core/status.h"
#include "core/table.h"
#include "core/value.h"

namespace di {

// kTruncate: every row of the table gone (change logs only; such a change has no row).
enum class ChangeOp : uint8_t { kInsert, kUpdate, kDelete, kTruncate };
const char* ChangeOpName(ChangeOp op);  // "insert", "update", "delete", "truncate"

// One batch of changes to one table, in source order. A snapshot read's rows are all inserts
// (`ops` empty); a change-log read gives an op per row. A delete's row holds its key columns
// (the others NULL). Rows come as Values (SQL one per column in TableInfo::columns order,
// MongoDB one Document), from the SQL readers as cells (`has_cells`), or, from a backup read,
// as records (`has_records`: the lines of docs/formats.md, Records, which the database sinks
// of restore decode themselves).
struct ChangeBatch {
  uint64_t sequence = 0;      // 1, 2, 3... within one read; set by the fan-out
  std::vector<ChangeOp> ops;  // per row; empty: every row an insert
  std::vector<std::vector<Value>> rows;
  CellBatch cells;
  bool has_cells = false;
  std::vector<std::string_view> records;  // views into the reader's buffer, valid for the batch
  bool has_records = false;
  std::optional<Position> last;        // ordered snapshot reads: where a resumed read starts
  std::optional<Position> high_water;  // snapshot reads: the greatest (cursor, key) so far
  LogPosition log;                     // change-log reads: the place just past the batch
  ChangeOp op(size_t row) const { return ops.empty() ? ChangeOp::kInsert : ops[row]; }
  size_t size() const {
    return has_cells ? cells.rows() : has_records ? records.size() : rows.size();
  }
};

// Yields a table's change batches. One reader per table read; not thread-safe.
class ChangeReader {
 public:
  virtual ~ChangeReader() = default;
  // Fills `batch` (cleared first) with the next changes; false once there are none (an
  // ended snapshot), or an error (the batch handed out before it stay valid).
  virtual Result<bool> Next(ChangeBatch* batch) = 0;
};

}  // namespace di
