// Cells: a batch of rows as the server sent them — each cell's text, or NULL — with, per
// column, how that text reads (CellText) and the reader's decoder for the rest. The sinks'
// encoders (backup records, DynamoDB AttributeValues) write most cells straight from the
// text and ask the decoder for a Value only where the text alone is not enough; the reader
// knows its engine's types, never a target's format.
//
// A CellBatch owns its text; the decoder belongs to the reader and lives as long as it.
// Plain data: not thread-safe to fill, safe to read from several threads once filled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/table.h"
#include "core/value.h"

namespace di {

// How a column's text reads without the decoder.
enum class CellText : uint8_t {
  kOther,    // only as the decoder's Value
  kString,   // the text is the string
  kDecimal,  // exact decimal digits ("-12.50"; NaN and others through the decoder)
  kJson,     // a JSON document (json, jsonb, MariaDB's JSON)
  kInteger,  // integer digits (64-bit signed or unsigned)
  kDate,     // YYYY-MM-DD (a zero or out-of-calendar date through the decoder)
  // "YYYY-MM-DD HH:MM:SS[.ffffff]" already in UTC, with "+00" (a zone-aware column read in a
  // UTC session) or without (a naive column when SOURCE_TZ is UTC)
  kUtcTimestamp,
  kIntegerArray,  // PostgreSQL's "{1,-2,3}" (other shapes through the decoder)
};

// The reader's conversion of a cell's text to its exact Value. Thread-safe (const).
class CellDecoder {
 public:
  virtual ~CellDecoder() = default;
  virtual Value Decode(size_t column, std::string_view text) const = 0;
};

struct CellBatch {
  std::vector<CellText> kinds;  // per column
  const CellDecoder* decoder = nullptr;
  std::string text;              // every cell's text, row after row
  std::vector<size_t> ends;      // per cell: the offset just past its text
  std::vector<char> nulls;       // per cell: SQL NULL
  std::optional<Position> last;  // ordered reads: the position of the last row

  size_t columns() const { return kinds.size(); }
  size_t rows() const { return kinds.empty() ? 0 : ends.size() / kinds.size(); }
  std::string_view cell(size_t row, size_t column) const {
    size_t i = row * kinds.size() + column, begin = i ? ends[i - 1] : 0;
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  bool null(size_t row, size_t column) const { return nulls[row * kinds.size() + column]; }
  // The cell as a Value (NULL for SQL NULL).
  Value value(size_t row, size_t column) const {
    if (null(row, column)) return Null{};
    return decoder->Decode(column, cell(row, column));
  }
  // Appends a cell; `text` ignored for NULL.
  void Add(std::string_view s, bool is_null) {
    if (!is_null) text.append(s.data(), s.size());
    ends.push_back(text.size());
    nulls.push_back(is_null);
  }
  void clear() {  // keeps kinds and decoder
    text.clear();
    ends.clear();
    nulls.clear();
    last.reset();
  }
};

}  // namespace di
