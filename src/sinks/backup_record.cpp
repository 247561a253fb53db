#include "sinks/backup_record.h"

#include <algorithm>
#include <cstdint>

#include "core/json_encode.h"
#include "core/strings.h"
#include "sinks/cell_encoding.h"

namespace di {
namespace {

// Positions are indexes into `s`; each scanner returns the index just past what it read, or
// npos when the text is not what it expects.
constexpr size_t kBad = std::string_view::npos;

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// s[i] is the opening quote; sets *escaped when a backslash occurs.
size_t ScanString(std::string_view s, size_t i, bool* escaped) {
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      *escaped = true;
      ++i;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      return kBad;
    }
  }
  return kBad;
}

// s[i] opens an array or object: the index past its matching close, strings skipped.
size_t ScanNested(std::string_view s, size_t i) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      bool e = false;
      i = ScanString(s, i, &e);
      if (i == kBad) return kBad;
      --i;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return kBad;
}

size_t ScanLiteral(std::string_view s, size_t i, std::string_view word) {
  return s.substr(i, word.size()) == word ? i + word.size() : kBad;
}

size_t ScanNumber(std::string_view s, size_t i) {
  size_t start = i;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '+' ||
                          s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
    ++i;
  return i == start ? kBad : i;
}

bool Hex4(std::string_view s, size_t i, uint32_t* v) {
  if (i + 4 > s.size()) return false;
  *v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    int d = HexDigitValue(s[k]);
    if (d < 0) return false;
    *v = *v * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

}  // namespace

// The value starting at s[i] into `f`: the index past it, or kBad.
static size_t ScanValue(std::string_view s, size_t i, RecordField* f) {
  if (i >= s.size()) return kBad;
  char c = s[i];
  size_t end;
  switch (c) {
    case '"':
      end = ScanString(s, i, &f->value_escaped);
      if (end == kBad) return kBad;
      f->kind = RecordField::kString;
      f->value = s.substr(i + 1, end - i - 2);
      return end;
    case 'n':
    case 't':
    case 'f':
      end = ScanLiteral(s, i, c == 'n' ? "null" : c == 't' ? "true" : "false");
      f->kind = static_cast<RecordField::Kind>(c);
      break;
    case '[':
    case '{':
      end = ScanNested(s, i);
      f->kind = static_cast<RecordField::Kind>(c);
      break;
    default:
      end = ScanNumber(s, i);
      f->kind = RecordField::kNumber;
  }
  if (end != kBad) f->value = s.substr(i, end - i);
  return end;
}

// An object (`keyed`) or an array, from `open` to `close`, as its members in order.
static bool SplitList(std::string_view s, char open, char close, bool keyed,
                      std::vector<RecordField>* out) {
  out->clear();
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || s[i] != open) return false;
  i = SkipSpace(s, i + 1);
  if (i < s.size() && s[i] == close) return SkipSpace(s, i + 1) == s.size();
  while (true) {
    RecordField f;
    if (keyed) {
      if (i >= s.size() || s[i] != '"') return false;
      size_t end = ScanString(s, i, &f.key_escaped);
      if (end == kBad) return false;
      f.key = s.substr(i + 1, end - i - 2);
      i = SkipSpace(s, end);
      if (i >= s.size() || s[i] != ':') return false;
      i = SkipSpace(s, i + 1);
    }
    size_t end = ScanValue(s, i, &f);
    if (end == kBad) return false;
    out->push_back(f);
    i = SkipSpace(s, end);
    if (i >= s.size()) return false;
    if (s[i] == close) return SkipSpace(s, i + 1) == s.size();
    if (s[i] != ',') return false;
    i = SkipSpace(s, i + 1);
  }
}

bool SplitRecord(std::string_view s, std::vector<RecordField>* fields) {
  return SplitList(s, '{', '}', true, fields);
}

bool SplitArray(std::string_view s, std::vector<RecordField>* elements) {
  return SplitList(s, '[', ']', false, elements);
}

bool AppendUnescaped(std::string_view s, std::string& out) {
  constexpr std::string_view kEscape = "\"\\/bfnrt", kMeans = "\"\\/\b\f\n\r\t";
  size_t i = 0;
  while (i < s.size()) {
    size_t bs = s.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(s.substr(i));
      return true;
    }
    out.append(s.substr(i, bs - i));
    if (bs + 1 >= s.size()) return false;
    char c = s[bs + 1];
    i = bs + 2;
    if (size_t k = kEscape.find(c); k != std::string_view::npos) {
      out += kMeans[k];
      continue;
    }
    if (c != 'u') return false;
    uint32_t cp = 0;
    if (!Hex4(s, i, &cp)) return false;
    i += 4;
    if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate: its low half follows
      uint32_t lo = 0;
      if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u' || !Hex4(s, i + 2, &lo) ||
          lo < 0xDC00 || lo >= 0xE000)
        return false;
      i += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return false;
    }
    AppendUtf8(out, cp);
  }
  return true;
}

RecordWriter::RecordWriter(const TableInfo& table) : mongo_(table.engine == Engine::kMongo) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    std::string key = i ? "," : "{";
    AppendJsonString(table.columns[i].name, key);
    key += ':';
    keys_.push_back(std::move(key));
  }
}

void RecordWriter::Append(const std::vector<Value>& row, std::string& out) const {
  if (mongo_) {
    AppendJson(row[0], JsonStyle::kExtended, out);
    return;
  }
  AppendSql(
      std::min(row.size(), keys_.size()),
      [&](size_t i, std::string& o) { AppendJson(row[i], JsonStyle::kPlain, o); }, out);
}

void RecordWriter::AppendCells(const CellBatch& batch, size_t row, std::string& out) const {
  AppendSql(
      std::min(batch.columns(), keys_.size()),
      [&](size_t i, std::string& o) { AppendCellAsJson(batch, row, i, o); }, out);
}

}  // namespace di
