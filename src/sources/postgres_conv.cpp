// The PostgreSQL source's conversions (sources/postgres_internal.h): a column's type -> its
// Conv, text of the text format (COPY and query results alike) -> Value, COPY's escapes
// undone, and a Value -> the text of a query parameter.
#include <libpq-fe.h>

#include <charconv>
#include <cmath>

#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "sources/postgres_internal.h"

namespace di::postgres_internal {

namespace {

int HexVal(char c) {
  return HexDigitValue(c);
}

// money in the C locale's spelling ("-$1,234.56", "$0.00") as the exact decimal it holds; any
// other spelling stays text (it cannot come from a session whose lc_monetary is C).
Value MoneyDecimal(std::string_view s) {
  std::string digits;
  size_t i = 0;
  if (i < s.size() && s[i] == '-') digits += s[i++];
  if (i < s.size() && s[i] == '$') ++i;
  bool any = false, point = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      any = true;
    } else if (c == '.' && !point) {
      digits += c;
      point = true;
    } else if (c != ',' || point) {
      return std::string(s);
    }
  }
  if (!any) return std::string(s);
  return Decimal{std::move(digits)};
}

}  // namespace

Conv ConvForOid(unsigned oid, char typtype) {
  if (typtype == 'e') return Conv::kString;  // enums
  switch (oid) {
    case 16:
      return Conv::kBool;
    case 20:
    case 21:
    case 23:
    case 26:
      return Conv::kInt;
    case 700:
    case 701:
      return Conv::kDouble;
    case 1700:
      return Conv::kDecimal;
    case 790:
      return Conv::kMoney;
    case 17:
      return Conv::kBytes;
    case 1082:
      return Conv::kDate;
    case 1083:
      return Conv::kTime;
    case 1114:
      return Conv::kTimestamp;
    case 1184:
      return Conv::kTimestampTz;
    case 114:
    case 3802:
      return Conv::kJson;
    default:
      return Conv::kString;  // text, varchar, uuid, tsvector, interval, money...
  }
}

// Undoes COPY text escaping of one field: the field itself when it has no escapes, else the
// unescaped text in `out`.
std::string_view CopyUnescape(std::string_view s, std::string& out) {
  if (s.find('\\') == std::string_view::npos) return s;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        if (i + 1 < s.size() && HexVal(s[i + 1]) >= 0) {
          int v = HexVal(s[++i]);
          if (i + 1 < s.size() && HexVal(s[i + 1]) >= 0) v = v * 16 + HexVal(s[++i]);
          out += static_cast<char>(v);
        } else {
          out += c;
        }
        break;
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<ColumnConv> PgSource::ConvsFrom(const std::vector<std::vector<std::string>>& cols) {
  std::vector<ColumnConv> convs;
  for (auto& c : cols) {
    unsigned oid = static_cast<unsigned>(std::stoul(c[3]));
    unsigned elem = static_cast<unsigned>(std::stoul(c[5]));
    ColumnConv cc;
    if (elem != 0) {
      cc.conv = Conv::kArray;
      cc.element = ConvForOid(elem, c[6].empty() ? 'b' : c[6][0]);
    } else {
      cc.conv = ConvForOid(oid, c[4].empty() ? 'b' : c[4][0]);
    }
    convs.push_back(cc);
  }
  return convs;
}

// Appends the rows of a text-format result as Values.
void PgSource::AppendRows(PGresult* r, const std::vector<ColumnConv>& convs,
                          std::vector<std::vector<Value>>* rows) const {
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<Value> row;
    row.reserve(convs.size());
    for (int j = 0; j < PQnfields(r); ++j) row.push_back(Cell(r, i, j, convs[j]));
    rows->push_back(std::move(row));
  }
}

Value PgSource::Scalar(Conv conv, Conv element, std::string_view s) const {
  switch (conv) {
    case Conv::kBool:
      return s == "t";
    case Conv::kInt: {
      int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
      return std::string(s);
    }
    case Conv::kDouble: {
      if (s == "NaN") return std::nan("");
      if (s == "Infinity") return HUGE_VAL;
      if (s == "-Infinity") return -HUGE_VAL;
      double v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kDecimal:
      return Decimal{std::string(s)};
    case Conv::kMoney:
      return MoneyDecimal(s);
    case Conv::kBytes: {
      if (s.size() < 2 || s[0] != '\\' || s[1] != 'x') return Bytes{std::string(s), 0};
      std::string out;
      out.reserve((s.size() - 2) / 2);
      for (size_t i = 2; i + 1 < s.size(); i += 2)
        out += static_cast<char>(HexVal(s[i]) * 16 + HexVal(s[i + 1]));
      return Bytes{std::move(out), 0};
    }
    case Conv::kDate: {
      int32_t days;
      if (ParseSqlDate(s, &days)) return Date{days};
      return std::string(s);  // infinity, BC dates, years past 9999: PostgreSQL's spelling
    }
    case Conv::kTime: {
      int64_t micros;
      if (ParseSqlTime(s, &micros)) return TimeOfDay{micros};
      return std::string(s);
    }
    case Conv::kTimestamp:
    case Conv::kTimestampTz: {
      int64_t micros;
      bool has_offset;
      if (!ParseSqlTimestamp(s, &micros, &has_offset)) return std::string(s);
      if (!has_offset) micros = o_.source_tz->LocalMicrosToUtc(micros);
      return Timestamp{micros};
    }
    case Conv::kJson:
      return Json{std::string(s)};
    case Conv::kArray: {
      size_t pos = 0;
      if (s.empty() || s[0] != '{') return std::string(s);  // e.g. '[1:2]={1,2}' bounds
      return ParseArray(element, s, &pos);
    }
    case Conv::kString:
      return std::string(s);
  }
  return std::string(s);
}

// PostgreSQL array text: {a,"b c",NULL,{1,2}}; elements converted with `element`.
Value PgSource::ParseArray(Conv element, std::string_view s, size_t* pos) const {
  Array arr;
  ++*pos;  // '{'
  while (*pos < s.size()) {
    char c = s[*pos];
    if (c == '}') {
      ++*pos;
      break;
    }
    if (c == ',') {
      ++*pos;
      continue;
    }
    if (c == '{') {
      arr.items.push_back(ParseArray(element, s, pos));
      continue;
    }
    std::string item;
    bool quoted = c == '"';
    if (quoted) {
      ++*pos;
      while (*pos < s.size() && s[*pos] != '"') {
        if (s[*pos] == '\\' && *pos + 1 < s.size()) ++*pos;
        item += s[(*pos)++];
      }
      ++*pos;
    } else {
      while (*pos < s.size() && s[*pos] != ',' && s[*pos] != '}') item += s[(*pos)++];
    }
    if (!quoted && item == "NULL")
      arr.items.push_back(Null{});
    else
      arr.items.push_back(Scalar(element, Conv::kString, item));
  }
  return arr;
}

CellText PgSource::CellTextOf(const ColumnConv& c) const {
  switch (c.conv) {
    case Conv::kString:
      return CellText::kString;
    case Conv::kDecimal:
      return CellText::kDecimal;
    case Conv::kJson:
      return CellText::kJson;
    case Conv::kInt:
      return CellText::kInteger;
    case Conv::kDate:
      return CellText::kDate;
    case Conv::kTimestampTz:  // read in a UTC session
      return CellText::kUtcTimestamp;
    case Conv::kTimestamp:  // wall time in SOURCE_TZ
      return o_.source_tz->is_utc() ? CellText::kUtcTimestamp : CellText::kOther;
    case Conv::kArray:
      return c.element == Conv::kInt ? CellText::kIntegerArray : CellText::kOther;
    default:
      return CellText::kOther;
  }
}

std::string PgSource::TextFor(const ColumnConv& c, const Value& v) const {
  if (const auto* ts = v.get_if<Timestamp>()) {
    int64_t micros = ts->micros;
    if (c.conv == Conv::kTimestamp) micros = o_.source_tz->UtcMicrosToLocal(micros);
    std::string iso = FormatTimestamp(micros);
    return iso.substr(0, 10) + " " + iso.substr(11, 15) +
           (c.conv == Conv::kTimestampTz ? "+00" : "");
  }
  if (const auto* d = v.get_if<Date>()) return FormatDate(d->days);
  if (const auto* i = v.get_if<int64_t>()) return std::to_string(*i);
  if (const auto* b = v.get_if<bool>()) return *b ? "t" : "f";
  if (const auto* dec = v.get_if<Decimal>()) return dec->text;
  if (const auto* dbl = v.get_if<double>()) return FormatDouble(*dbl);
  if (const auto* str = v.get_if<std::string>()) return *str;
  if (const auto* t = v.get_if<TimeOfDay>()) return FormatTime(t->micros);
  return "";
}

}  // namespace di::postgres_internal
