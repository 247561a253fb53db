#include "core/json_encode.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/strings.h"
#include "core/time_util.h"

namespace di {
namespace {

void AppendQuoted(std::string_view s, std::string& out) {
  out += '"';
  out += s;
  out += '"';
}

// Length of a valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (n == 2 && c < 0xC2) return 0;                       // overlong
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogates
  if (n == 4 && c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
  if (n == 4 && (c > 0xF4 || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;
  return n;
}

void AppendExtendedDouble(double d, std::string& out) {
  out += "{\"$numberDouble\":\"";
  std::string s = FormatDouble(d);
  if (std::isfinite(d) && s.find_first_of(".eEn") == std::string::npos) s += ".0";
  out += s;
  out += "\"}";
}

void AppendPlainDouble(double d, std::string& out) {
  if (std::isfinite(d))
    out += FormatDouble(d);
  else
    AppendQuoted(FormatDouble(d), out);
}

struct Writer {
  JsonStyle style;
  std::string& out;

  void operator()(const Null&) { out += "null"; }
  void operator()(bool b) { out += b ? "true" : "false"; }
  void operator()(int64_t i) {
    if (style == JsonStyle::kExtended) {
      out += "{\"$numberLong\":\"" + std::to_string(i) + "\"}";
    } else {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, i);
      out.append(buf, r.ptr);
    }
  }
  void operator()(uint64_t u) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, u);
    out.append(buf, r.ptr);
  }
  void operator()(double d) {
    if (style == JsonStyle::kExtended)
      AppendExtendedDouble(d, out);
    else
      AppendPlainDouble(d, out);
  }
  void operator()(const Decimal& d) {
    if (style == JsonStyle::kExtended) {
      out += "{\"$numberDecimal\":";
      AppendQuoted(d.text, out);
      out += '}';
    } else {
      AppendQuoted(d.text, out);
    }
  }
  void operator()(const std::string& s) { AppendJsonString(s, out); }
  void operator()(const Bytes& b) {
    if (style == JsonStyle::kExtended) {
      char sub[3];
      std::snprintf(sub, sizeof sub, "%02x", b.subtype);
      out +=
          "{\"$binary\":{\"base64\":\"" + Base64Encode(b.data) + "\",\"subType\":\"" + sub + "\"}}";
    } else {
      AppendQuoted(Base64Encode(b.data), out);
    }
  }
  void operator()(const Date& d) {
    out += '"';
    AppendDate(d.days, out);
    out += '"';
  }
  void operator()(const TimeOfDay& t) {
    out += '"';
    AppendTime(t.micros, out);
    out += '"';
  }
  void operator()(const Timestamp& t) {
    out += '"';
    AppendTimestamp(t.micros, out);
    out += '"';
  }
  void operator()(const Json& j) { AppendJsonText(j.text, out); }
  void operator()(const Array& a) {
    out += '[';
    for (size_t i = 0; i < a.items.size(); ++i) {
      if (i) out += ',';
      std::visit(*this, a.items[i].v);
    }
    out += ']';
  }
  void operator()(const Document& d) {
    out += '{';
    for (size_t i = 0; i < d.fields.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(d.fields[i].first, out);
      out += ':';
      std::visit(*this, d.fields[i].second.v);
    }
    out += '}';
  }
  void operator()(const ObjectId& id) {
    if (style == JsonStyle::kExtended) {
      out += "{\"$oid\":\"" + ObjectIdHex(id) + "\"}";
    } else {
      AppendQuoted(ObjectIdHex(id), out);
    }
  }
  void operator()(const Int32& i) {
    if (style == JsonStyle::kExtended)
      out += "{\"$numberInt\":\"" + std::to_string(i.v) + "\"}";
    else
      (*this)(static_cast<int64_t>(i.v));
  }
  void operator()(const BsonDate& d) {
    if (style == JsonStyle::kExtended)
      out += "{\"$date\":{\"$numberLong\":\"" + std::to_string(d.millis) + "\"}}";
    else
      AppendQuoted(FormatTimestamp(d.millis * 1000), out);
  }
  void operator()(const BsonTimestamp& t) {
    out += "{\"$timestamp\":{\"t\":" + std::to_string(t.t) + ",\"i\":" + std::to_string(t.i) + "}}";
  }
  void operator()(const Regex& r) {
    out += "{\"$regularExpression\":{\"pattern\":";
    AppendJsonString(r.pattern, out);
    out += ",\"options\":";
    AppendJsonString(r.options, out);
    out += "}}";
  }
  void operator()(const MinKey&) { out += "{\"$minKey\":1}"; }
  void operator()(const MaxKey&) { out += "{\"$maxKey\":1}"; }
};

}  // namespace

void AppendJson(const Value& value, JsonStyle style, std::string& out) {
  std::visit(Writer{style, out}, value.v);
}

void AppendJsonText(std::string_view json, std::string& out) {
  // Valid JSON holds line breaks only as whitespace between tokens (inside strings they are
  // escaped), so they can go without changing the document. (One loop over the bytes:
  // find_first_of searches its set once per byte, a tenth of a backup's time on a json column.)
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i)
    if (json[i] == '\n' || json[i] == '\r') {
      out.append(json.data() + start, i - start);
      start = i + 1;
    }
  out.append(json.data() + start, json.size() - start);
}

bool AppendSqlTextAsJson(SqlText kind, std::string_view s, std::string& out) {
  switch (kind) {
    case SqlText::kString:
      AppendJsonString(s, out);
      return true;
    case SqlText::kDecimal:
      AppendQuoted(s, out);
      return true;
    case SqlText::kJson:
      AppendJsonText(s, out);
      return true;
    case SqlText::kInteger:
      if (!IsPlainInteger(s)) return false;
      out += s;
      return true;
    case SqlText::kDate:
      if (!IsIsoDate(s)) return false;
      AppendQuoted(s, out);
      return true;
  }
  return false;
}

std::string ToJson(const Value& value, JsonStyle style) {
  std::string out;
  AppendJson(value, style, out);
  return out;
}

void AppendJsonString(std::string_view s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      size_t j = i + 1;
      while (j < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d == '"' || d == '\\' || d >= 0x80) break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    ++i;
  }
  out += '"';
}

std::string Base64Encode(std::string_view in) {
  static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    out += kTable[n >> 18];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += kTable[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = b(i) << 16;
    out += kTable[n >> 18];
    out += kTable[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = b(i) << 16 | b(i + 1) << 8;
    out += kTable[n >> 18];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {

// Appends v as exactly `width` digits (v >= 0, v < 10^width).
void AppendDigits(std::string& out, uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

}  // namespace

void AppendDate(int32_t days, std::string& out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y >= 0 && y <= 9999) {
    AppendDigits(out, static_cast<uint64_t>(y), 4);
  } else {  // ISO 8601 expanded years: a sign and at least four digits
    out += y < 0 ? '-' : '+';
    uint64_t a = static_cast<uint64_t>(y < 0 ? -y : y);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, a);
    for (auto n = r.ptr - buf; n < 4; ++n) out += '0';
    out.append(buf, r.ptr);
  }
  out += '-';
  AppendDigits(out, m, 2);
  out += '-';
  AppendDigits(out, d, 2);
}

void AppendTime(int64_t micros, std::string& out) {
  if (micros < 0) {
    out += '-';
    micros = -micros;
  }
  uint64_t secs = static_cast<uint64_t>(micros / 1000000);
  uint64_t hours = secs / 3600;
  if (hours < 100) {
    AppendDigits(out, hours, 2);
  } else {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, hours);
    out.append(buf, r.ptr);
  }
  out += ':';
  AppendDigits(out, secs / 60 % 60, 2);
  out += ':';
  AppendDigits(out, secs % 60, 2);
  out += '.';
  AppendDigits(out, static_cast<uint64_t>(micros % 1000000), 6);
}

void AppendTimestamp(int64_t micros, std::string& out) {
  int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  AppendDate(static_cast<int32_t>(days), out);
  out += 'T';
  AppendDigits(out, static_cast<uint64_t>(sod / 3600), 2);
  out += ':';
  AppendDigits(out, static_cast<uint64_t>(sod / 60 % 60), 2);
  out += ':';
  AppendDigits(out, static_cast<uint64_t>(sod % 60), 2);
  out += '.';
  AppendDigits(out, static_cast<uint64_t>(frac), 6);
  out += 'Z';
}

std::string FormatDate(int32_t days) {
  std::string out;
  AppendDate(days, out);
  return out;
}

std::string FormatTime(int64_t micros) {
  std::string out;
  AppendTime(micros, out);
  return out;
}

std::string FormatTimestamp(int64_t micros) {
  std::string out;
  AppendTimestamp(micros, out);
  return out;
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace di
