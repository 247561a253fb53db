// The backup's record codec (docs/formats.md, Records): a row's record without its newline —
// a SQL row as an object keyed by column (plain JSON), a MongoDB document as canonical
// Extended JSON — from its Values or from its cells (the server's text), byte for byte the
// same. Each column's `"name":` is encoded once for the table. Immutable once made:
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/cells.h"
#include "core/change.h"
#include "core/value.h"

namespace di {

class RecordWriter {
 public:
  explicit RecordWriter(const TableInfo& table);
  void Append(const std::vector<Value>& row, std::string& out) const;
  // Row `row` of a batch of cells (SQL tables).
  void AppendCells(const CellBatch& batch, size_t row, std::string& out) const;

 private:
  // A SQL record of the first `columns` columns (at most the table's), each value written by
  // `value(i, out)`.
  template <typename ValueWriter>
  void AppendSql(size_t columns, const ValueWriter& value, std::string& out) const {
    if (columns == 0) out += '{';
    for (size_t i = 0; i < columns; ++i) {
      out += keys_[i];
      value(i, out);
    }
    out += '}';
  }

  bool mongo_;
  std::vector<std::string> keys_;  // `{"name":` then `,"name":`
};

}  // namespace di
