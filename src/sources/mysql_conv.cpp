// The MySQL / MariaDB source's conversions (sources/mysql_internal.h): a column's type ->
// its Conv, the text of a result's cell -> Value, how that text reads for the sinks'
// encoders, and a Value -> the SQL literal of a query.
#include <mysql.h>

#include <charconv>
#include <cstdint>

#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "sources/mysql_internal.h"

namespace di::mysql_internal {

ColumnConv MySqlSource::ConvFor(const std::string& type) {
  std::string t = ToLower(type);
  auto starts = [&](const char* p) { return StartsWith(t, p); };
  bool is_unsigned = t.find("unsigned") != std::string::npos;
  if (t == "tinyint(1)") return {Conv::kBool};
  if (starts("tinyint") || starts("smallint") || starts("mediumint") || starts("int") ||
      starts("bigint") || starts("year"))
    return {is_unsigned ? Conv::kUInt : Conv::kInt};
  if (starts("decimal") || starts("numeric")) return {Conv::kDecimal};
  if (starts("float") || starts("double") || starts("real")) return {Conv::kDouble};
  if (starts("datetime")) return {Conv::kDateTime};
  if (starts("timestamp")) return {Conv::kTimestamp};
  if (starts("date")) return {Conv::kDate};
  if (starts("time")) return {Conv::kTime};
  if (t == "json") return {Conv::kJson};
  if (starts("bit")) return {Conv::kBit};
  if (starts("binary") || starts("varbinary") || t.find("blob") != std::string::npos ||
      starts("geometry") || starts("point") || starts("linestring") || starts("polygon") ||
      starts("multi") || starts("geometrycollection"))
    return {Conv::kBytes};
  return {Conv::kString};  // char, varchar, text, enum, set, uuid, inet...
}

Value MySqlSource::Convert(const ColumnConv& c, const char* p, unsigned long len) const {
  std::string_view s(p, len);
  switch (c.conv) {
    case Conv::kBool:
      if (s == "0") return false;
      if (s == "1") return true;
      [[fallthrough]];  // tinyint(1) holding another number: keep the number
    case Conv::kInt: {
      int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kUInt: {
      uint64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc()) return std::string(s);
      if (v <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v);
      return v;
    }
    case Conv::kDouble: {
      double v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kDecimal:
      return Decimal{std::string(s)};
    case Conv::kBytes:
      return Bytes{std::string(s), 0};
    case Conv::kJson:
      return Json{std::string(s)};
    case Conv::kDate: {
      int32_t days;
      if (ParseSqlDate(s, &days)) return Date{days};
      return std::string(s);  // 0000-00-00 and friends keep MySQL's spelling
    }
    case Conv::kDateTime:
    case Conv::kTimestamp: {
      int64_t micros;
      bool has_offset;
      if (!ParseSqlTimestamp(s, &micros, &has_offset)) return std::string(s);
      if (c.conv == Conv::kDateTime) micros = o_.source_tz->LocalMicrosToUtc(micros);
      return Timestamp{micros};
    }
    case Conv::kTime: {
      int64_t micros;
      if (ParseSqlTime(s, &micros)) return TimeOfDay{micros};
      return std::string(s);
    }
    case Conv::kBit: {
      uint64_t v = 0;
      for (char ch : s) v = v << 8 | static_cast<unsigned char>(ch);
      return static_cast<int64_t>(v);
    }
    case Conv::kString:
      return std::string(s);
  }
  return std::string(s);
}

CellText MySqlSource::CellTextOf(const ColumnConv& c) const {
  switch (c.conv) {
    case Conv::kString:
      return CellText::kString;
    case Conv::kDecimal:
      return CellText::kDecimal;
    case Conv::kJson:
      return CellText::kJson;
    case Conv::kDate:
      return CellText::kDate;
    case Conv::kInt:
    case Conv::kUInt:
      return CellText::kInteger;
    case Conv::kTimestamp:  // read in UTC (the session's zone)
      return CellText::kUtcTimestamp;
    case Conv::kDateTime:  // wall time in SOURCE_TZ
      return o_.source_tz->is_utc() ? CellText::kUtcTimestamp : CellText::kOther;
    default:  // the rest hold no text of their own (binary aside)
      return CellText::kOther;
  }
}

std::vector<Value> MySqlSource::RowValues(MYSQL_RES* res, MYSQL_ROW row,
                                          const std::vector<ColumnConv>& convs) const {
  unsigned long* len = mysql_fetch_lengths(res);
  std::vector<Value> out;
  out.reserve(convs.size());
  for (size_t i = 0; i < convs.size(); ++i)
    out.push_back(row[i] ? Convert(convs[i], row[i], len[i]) : Value(Null{}));
  return out;
}

std::string MySqlSource::LiteralFor(const ColumnConv& c, const Value& v) {
  if (const auto* ts = v.get_if<Timestamp>()) {
    int64_t micros = ts->micros;
    if (c.conv == Conv::kDateTime) micros = o_.source_tz->UtcMicrosToLocal(micros);
    std::string iso = FormatTimestamp(micros);  // 2025-01-31T00:00:00.250000Z
    return "'" + iso.substr(0, 10) + " " + iso.substr(11, 15) + "'";
  }
  if (const auto* d = v.get_if<Date>()) return "'" + FormatDate(d->days) + "'";
  if (const auto* i = v.get_if<int64_t>()) return std::to_string(*i);
  if (const auto* u = v.get_if<uint64_t>()) return std::to_string(*u);
  if (const auto* b = v.get_if<bool>()) return *b ? "1" : "0";
  if (const auto* dec = v.get_if<Decimal>()) return Literal(dec->text);
  if (const auto* dbl = v.get_if<double>()) return FormatDouble(*dbl);
  if (const auto* str = v.get_if<std::string>()) return Literal(*str);
  if (const auto* by = v.get_if<Bytes>()) return Literal(by->data);
  if (const auto* t = v.get_if<TimeOfDay>()) return "'" + FormatTime(t->micros) + "'";
  return "NULL";
}

}  // namespace di::mysql_internal
