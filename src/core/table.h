// A table's description (TableInfo), a row's place in a read (Position) and a place in the
// source's change log (LogPosition): the vocabulary shared by readers, sinks and pipelines.
// Plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"

namespace di {

enum class Engine { kMySql, kPostgres, kMongo };
std::string EngineName(Engine e);  // "mysql", "postgresql", "mongodb"

struct ColumnInfo {
  std::string name;
  std::string source_type;  // as the engine spells it: "decimal(10,2)", "timestamp with time zone"
  bool nullable = true;
  // PostgreSQL user-defined types, so a restore can create them where they are missing: an
  // enum's labels in order, the base type of a domain, or what follows CREATE TYPE name AS
  // for a composite ("(street text, n integer)") or a range ("RANGE (subtype = real)").
  std::vector<std::string> enum_values;
  std::string domain_of;
  std::string type_definition;
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

}  // namespace di
