#include "sinks/cell_encoding.h"

#include <algorithm>
#include <optional>

#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "sinks/dynamo_item.h"

namespace di {
namespace {

std::optional<SqlText> SqlTextOf(CellText kind) {
  switch (kind) {
    case CellText::kString:
      return SqlText::kString;
    case CellText::kDecimal:
      return SqlText::kDecimal;
    case CellText::kJson:
      return SqlText::kJson;
    case CellText::kInteger:
      return SqlText::kInteger;
    case CellText::kDate:
      return SqlText::kDate;
    default:
      return std::nullopt;
  }
}

// {"L":[{"N":"1"},...]} from "{1,...}" when every element is a plain integer; false (nothing
// written) otherwise.
bool AppendIntegerArrayAttribute(std::string_view s, std::string& out, size_t* size,
                                 std::vector<std::string>* warnings) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return false;
  const size_t start = out.size();
  std::string_view items = s.substr(1, s.size() - 2);
  out += "{\"L\":[";
  *size = 3;
  for (size_t at = 0; !items.empty() && at <= items.size();) {
    size_t comma = std::min(items.find(',', at), items.size());
    if (at) out += ',';
    auto n = AppendSqlTextAsAttributeValue(SqlText::kInteger, items.substr(at, comma - at), out,
                                           warnings);
    if (!n) {
      out.resize(start);
      return false;
    }
    *size += *n + 1;
    at = comma + 1;
  }
  out += "]}";
  return true;
}

}  // namespace

bool AppendIntegerArrayText(std::string_view s, std::string& out) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return false;
  std::string_view items = s.substr(1, s.size() - 2);
  for (size_t at = 0; !items.empty() && at <= items.size();) {
    size_t comma = items.find(',', at);
    if (comma == std::string_view::npos) comma = items.size();
    if (!IsPlainInteger(items.substr(at, comma - at))) return false;
    at = comma + 1;
  }
  out += '[';
  out += items;
  out += ']';
  return true;
}

void AppendCellAsJson(const CellBatch& b, size_t row, size_t column, std::string& out) {
  if (b.null(row, column)) {
    out += "null";
    return;
  }
  const std::string_view s = b.cell(row, column);
  const CellText kind = b.kinds[column];
  if (auto text = SqlTextOf(kind)) {
    if (AppendSqlTextAsJson(*text, s, out)) return;
  } else if (kind == CellText::kUtcTimestamp) {
    if (AppendUtcTimestampText(s, true, out)) return;
  } else if (kind == CellText::kIntegerArray) {
    if (AppendIntegerArrayText(s, out)) return;
  }
  AppendJson(b.decoder->Decode(column, s), JsonStyle::kPlain, out);
}

size_t AppendCellAsAttributeValue(const CellBatch& b, size_t row, size_t column, std::string& out,
                                  std::vector<std::string>* warnings) {
  if (b.null(row, column)) {
    out += "{\"NULL\":true}";
    return 1;
  }
  const std::string_view s = b.cell(row, column);
  const CellText kind = b.kinds[column];
  if (auto text = SqlTextOf(kind)) {
    if (auto size = AppendSqlTextAsAttributeValue(*text, s, out, warnings)) return *size;
  } else if (kind == CellText::kUtcTimestamp) {
    const size_t start = out.size();
    out += "{\"S\":";
    if (AppendUtcTimestampText(s, true, out)) {
      out += '}';
      return out.size() - start - 8;  // the text between the quotes
    }
    out.resize(start);
  } else if (kind == CellText::kIntegerArray) {
    size_t size = 0;
    if (AppendIntegerArrayAttribute(s, out, &size, warnings)) return size;
  }
  return AppendAttributeValue(b.decoder->Decode(column, s), out, warnings);
}

}  // namespace di
