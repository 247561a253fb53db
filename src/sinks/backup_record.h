// The backup's record codec (docs/formats.md, Records). Writing: a row's record without its
// newline — a SQL row as an object keyed by column (plain JSON), a MongoDB document as
// canonical Extended JSON — from its Values or from its cells (the server's text), byte for
// byte the same; each column's `"name":` encoded once for the table (RecordWriter: immutable
// once made, thread-safe). Reading: a line split into its fields without building a JSON
// tree, so that restore turns a record into the target's text in one pass over its bytes.
#pragma once

#include <string>
#include <string_view>
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

struct RecordField {
  enum Kind : char {
    kNull = 'n',
    kTrue = 't',
    kFalse = 'f',
    kNumber = '0',
    kString = '"',
    kArray = '[',
    kObject = '{',
  };
  std::string_view key;  // between its quotes, escapes as they are
  bool key_escaped = false;
  std::string_view value;  // kString: between its quotes, escapes as they are; else its text
  bool value_escaped = false;
  Kind kind = kNull;
};

// `line` as its fields in order; false when it is not one JSON object. Nested arrays and
// objects are delimited, not checked (a full parser reads them); strings and literals are.
bool SplitRecord(std::string_view line, std::vector<RecordField>* fields);

// A JSON array's elements in order (key unset); false when `array` is not one array.
bool SplitArray(std::string_view array, std::vector<RecordField>* elements);

// The text of a JSON string (between its quotes) with its escapes decoded, \uXXXX (and
// surrogate pairs) as UTF-8, appended to `out`; false on a malformed escape.
bool AppendUnescaped(std::string_view inner, std::string& out);

}  // namespace di
