// The change model: what every reader yields and every sink consumes, whether the rows come
// from a snapshot (a full or ordered read) or, later, from a change log (WAL, binlog, oplog).
// A table's description (TableInfo), a row's place in a read (Position), a place in the
// source's change log (LogPosition) and batches of changes (ChangeBatch). Plain values: no
// locking; a batch is written by one reader and then only read (the fan-out shares it
// between sinks as const).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"

namespace di {

enum class Engine { kMySql, kPostgres, kMongo };
std::string EngineName(Engine e);  // "mysql", "postgresql", "mongodb"

struct ColumnInfo {
  std::string name;
  std::string source_type;  // as the engine spells it: "decimal(10,2)", "timestamp with time zone"
  bool nullable = true;
  // PostgreSQL user-defined types, so a restore can create them where they are missing: an
  // enum's labels in order, or the base type of a domain.
  std::vector<std::string> enum_values;
  std::string domain_of;
};

struct TableInfo {
  Engine engine = Engine::kMySql;
  std::string database;
  std::string name;                      // PostgreSQL: schema.table outside "public"
  std::vector<ColumnInfo> columns;       // MongoDB: empty (rows are whole documents)
  std::vector<std::string> primary_key;  // empty when the table has none (still readable)
  std::string cursor_column;             // change-tracking column in use; "" when none
};

// A row's place in (cursor column, primary key) order — what a watermark remembers — or, in
// a read by primary key, its key (cursor NULL).
struct Position {
  Value cursor;
  std::vector<Value> key;  // empty: every row whose cursor is greater than `cursor`
};

// A place in the source's change log, where change capture starts after a snapshot:
// PostgreSQL an LSN ("0/16B3748"), MariaDB a GTID ("0-1-42") with its binlog file and offset,
// MongoDB an oplog time ("1767225600:1") or a resume token. Empty when the source gave none.
struct LogPosition {
  Engine engine = Engine::kMySql;
  std::string position;
  std::string file;     // MariaDB: the binlog file of `position`
  uint64_t offset = 0;  // MariaDB: the offset in `file`
  bool empty() const { return position.empty(); }
};

enum class ChangeOp : uint8_t { kInsert, kUpdate, kDelete };
const char* ChangeOpName(ChangeOp op);  // "insert", "update", "delete"

// One batch of changes to one table, in source order. A snapshot read's rows are all inserts
// (`ops` empty); a change-log read gives an op per row. A delete's row holds its key columns
// (the others NULL). Rows: SQL one Value per column in TableInfo::columns order, MongoDB one
// Document.
struct ChangeBatch {
  uint64_t sequence = 0;      // 1, 2, 3... within one read; set by the reader
  std::vector<ChangeOp> ops;  // per row; empty: every row an insert
  std::vector<std::vector<Value>> rows;
  std::optional<Position> last;  // ordered snapshot reads: where a resumed read starts
  LogPosition log;               // change-log reads: the place just past the batch
  ChangeOp op(size_t row) const { return ops.empty() ? ChangeOp::kInsert : ops[row]; }
  size_t size() const { return rows.size(); }
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
