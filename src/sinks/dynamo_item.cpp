#include "sinks/dynamo_item.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"

namespace di {
namespace {

using J = nlohmann::json;

// Sizes as DynamoDB counts them: strings and binary by their bytes, numbers by about half
// their digits, maps and lists 3 bytes plus 1 per element.
size_t NumberSize(std::string_view digits) {
  return digits.size() / 2 + 1;
}

void AppendTyped(std::string_view type, std::string_view quoted_text_inside, std::string& out) {
  out += "{\"";
  out += type;
  out += "\":\"";
  out += quoted_text_inside;
  out += "\"}";
}

size_t AppendS(std::string_view s, std::string& out) {
  out += "{\"S\":";
  AppendJsonString(s, out);
  out += '}';
  return s.size();
}

size_t AppendNumber(std::string_view text, std::string& out, std::vector<std::string>* warnings) {
  if (FitsDynamoNumber(text)) {
    AppendTyped("N", text, out);  // digits, sign, '.', 'e': nothing to escape
    return NumberSize(text);
  }
  if (warnings)
    warnings->push_back("number " + std::string(text) + " does not fit DynamoDB's N; stored as S");
  return AppendS(text, out);
}

template <typename Int>
size_t AppendInteger(Int v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view digits(buf, static_cast<size_t>(r.ptr - buf));
  AppendTyped("N", digits, out);
  return NumberSize(digits);
}

// A string literal of JSON text (quotes included) -> its decoded text.
std::string DecodeJsonString(std::string_view literal) {
  if (literal.find('\\') == std::string_view::npos)
    return std::string(literal.substr(1, literal.size() - 2));
  try {
    return J::parse(literal).get<std::string>();
  } catch (const J::exception&) {  // not valid JSON after all: keep the text between the quotes
    return std::string(literal.substr(1, literal.size() - 2));
  }
}

// JSON text -> AttributeValue text, keeping number text: enough for valid JSON from a
// database.
class JsonToAv {
 public:
  JsonToAv(std::string_view t, std::string& out, std::vector<std::string>* w)
      : t_(t), out_(out), w_(w) {}
  size_t Value() {
    Ws();
    if (p_ >= t_.size()) return out_ += "{\"NULL\":true}", 1;
    char c = t_[p_];
    if (c == '{') return Object();
    if (c == '[') {
      ++p_;
      out_ += "{\"L\":[";
      size_t size = 3;
      bool first = true;
      Elements(']', [&] {
        if (!first) out_ += ',';
        first = false;
        size += Value() + 1;
      });
      out_ += "]}";
      return size;
    }
    if (c == '"') return AppendS(DecodeJsonString(Literal()), out_);
    if (t_.substr(p_, 4) == "true") return p_ += 4, out_ += "{\"BOOL\":true}", 1;
    if (t_.substr(p_, 5) == "false") return p_ += 5, out_ += "{\"BOOL\":false}", 1;
    if (t_.substr(p_, 4) == "null") return p_ += 4, out_ += "{\"NULL\":true}", 1;
    size_t start = p_;
    while (p_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[p_])) || t_[p_] == '-' ||
                              t_[p_] == '+' || t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E'))
      ++p_;
    if (p_ == start) ++p_;  // not JSON: skip the character rather than loop
    return AppendNumber(t_.substr(start, p_ - start), out_, w_);
  }

 private:
  struct Member {
    std::string key;
    size_t begin, end, size;
  };

  // {"M":{...}}; a key given twice keeps its last value (as a JSON parser would).
  size_t Object() {
    ++p_;
    out_ += "{\"M\":{";
    std::vector<Member> members;
    Elements('}', [&] {
      Member m;
      m.begin = out_.size();
      if (!members.empty()) out_ += ',';
      std::string_view literal = Literal();
      m.key = DecodeJsonString(literal);
      AppendJsonString(m.key, out_);
      out_ += ':';
      Ws();
      if (p_ < t_.size() && t_[p_] == ':') ++p_;
      m.size = m.key.size() + Value() + 1;
      m.end = out_.size();
      members.push_back(std::move(m));
    });
    size_t size = 3;
    for (const auto& m : members) size += m.size;
    // Repeated keys (json, unlike jsonb, keeps them): drop the earlier ones, back to front.
    for (size_t i = members.size(); i-- > 0;) {
      bool repeated = false;
      for (size_t k = i + 1; k < members.size() && !repeated; ++k)
        repeated = members[k].key == members[i].key;
      if (!repeated) continue;
      size_t b = members[i].begin, e = members[i].end;
      if (i == 0 && e < out_.size() && out_[e] == ',') ++e;  // the next one loses its comma
      out_.erase(b, e - b);
      size -= members[i].size;
      for (size_t k = i + 1; k < members.size(); ++k) {
        members[k].begin -= e - b;
        members[k].end -= e - b;
      }
      members.erase(members.begin() + static_cast<std::ptrdiff_t>(i));
    }
    out_ += "}}";
    return size;
  }
  // Calls each() at every element of the array or object being read, up to `close`
  // (whitespace and commas skipped); p_ ends after `close`.
  template <typename F>
  void Elements(char close, F each) {
    while (true) {
      Ws();
      if (p_ >= t_.size()) return;
      if (t_[p_] == close) {
        ++p_;
        return;
      }
      if (t_[p_] == ',') {
        ++p_;
        continue;
      }
      each();
    }
  }
  // The string literal at p_, quotes included.
  std::string_view Literal() {
    size_t start = p_++;
    while (p_ < t_.size() && t_[p_] != '"') p_ += t_[p_] == '\\' ? 2 : 1;
    p_ = std::min(p_ + 1, t_.size());
    std::string_view lit = t_.substr(start, p_ - start);
    if (lit.size() < 2 || lit.back() != '"') return "\"\"";
    return lit;
  }
  void Ws() {
    while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
  }

  std::string_view t_;
  std::string& out_;
  std::vector<std::string>* w_;
  size_t p_ = 0;
};

struct AvWriter {
  std::string& out;
  std::vector<std::string>* warnings;

  size_t operator()(const Null&) { return out += "{\"NULL\":true}", 1; }
  size_t operator()(bool b) { return out += b ? "{\"BOOL\":true}" : "{\"BOOL\":false}", 1; }
  size_t operator()(int64_t i) { return AppendInteger(i, out); }
  size_t operator()(uint64_t u) { return AppendInteger(u, out); }
  size_t operator()(const Int32& i) { return AppendInteger(i.v, out); }
  size_t operator()(double d) {
    if (!std::isfinite(d)) {
      if (warnings) warnings->push_back("double " + FormatDouble(d) + " stored as S");
      return AppendS(FormatDouble(d), out);
    }
    return AppendNumber(FormatDouble(d), out, warnings);
  }
  size_t operator()(const Decimal& d) { return AppendNumber(d.text, out, warnings); }
  size_t operator()(const std::string& s) { return AppendS(s, out); }
  size_t operator()(const Bytes& b) {
    AppendTyped("B", Base64Encode(b.data), out);
    return b.data.size();
  }
  size_t operator()(const Date& d) {
    return Text([&] { AppendDate(d.days, out); });
  }
  size_t operator()(const TimeOfDay& t) {
    return Text([&] { AppendTime(t.micros, out); });
  }
  size_t operator()(const Timestamp& t) {
    return Text([&] { AppendTimestamp(t.micros, out); });
  }
  size_t operator()(const BsonDate& d) {
    return Text([&] { AppendTimestamp(d.millis * 1000, out); });
  }
  size_t operator()(const Json& j) { return AppendJsonAsAttributeValue(j.text, out, warnings); }
  size_t operator()(const Array& a) {
    out += "{\"L\":[";
    size_t size = 3;
    for (size_t i = 0; i < a.items.size(); ++i) {
      if (i) out += ',';
      size += std::visit(*this, a.items[i].v) + 1;
    }
    out += "]}";
    return size;
  }
  size_t operator()(const Document& d) {
    return AppendAttributeMap(
        d.fields.size(), [&](size_t i) -> std::string_view { return d.fields[i].first; },
        [&](size_t i) -> const Value& { return d.fields[i].second; }, out, warnings);
  }
  size_t operator()(const ObjectId& id) { return AppendS(ObjectIdHex(id), out); }
  size_t operator()(const BsonTimestamp& t) {
    out += "{\"M\":{\"t\":";
    size_t size = 3 + 1 + AppendInteger(t.t, out) + 1;
    out += ",\"i\":";
    size += 1 + AppendInteger(t.i, out) + 1;
    out += "}}";
    return size;
  }
  size_t operator()(const Regex& r) { return AppendS("/" + r.pattern + "/" + r.options, out); }
  size_t operator()(const MinKey&) { return AppendS("MinKey", out); }
  size_t operator()(const MaxKey&) { return AppendS("MaxKey", out); }

  // {"S":"<what write appends>"} for text that needs no escaping (dates and times).
  template <typename F>
  size_t Text(F write) {
    out += "{\"S\":\"";
    size_t start = out.size();
    write();
    size_t n = out.size() - start;
    out += "\"}";
    return n;
  }
};

size_t AvSize(const J& av) {
  // (Not a structured binding over av.items(): its proxy is a temporary.)
  auto it = av.begin();
  const std::string& type = it.key();
  const J& v = it.value();
  if (type == "S") return v.get<std::string>().size();
  if (type == "N") return v.get<std::string>().size() / 2 + 1;
  if (type == "B") return v.get<std::string>().size() * 3 / 4;
  if (type == "BOOL" || type == "NULL") return 1;
  size_t n = 3;
  if (type == "M")
    for (auto& [k, x] : v.items()) n += k.size() + AvSize(x) + 1;
  else if (type == "L")
    for (auto& x : v) n += AvSize(x) + 1;
  return n;
}

}  // namespace

bool FitsDynamoNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::string digits;
  int64_t point = -1, exp = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (c == '.' && point < 0) {
      point = static_cast<int64_t>(digits.size());
    } else if (c == 'e' || c == 'E') {
      try {
        exp = std::stoll(std::string(s.substr(i + 1)));
      } catch (...) {
        return false;
      }
      break;
    } else {
      return false;  // NaN, Infinity, junk
    }
  }
  if (digits.empty()) return false;
  if (point < 0) point = static_cast<int64_t>(digits.size());
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return true;  // zero
  size_t last = digits.find_last_not_of('0');
  size_t significant = last - first + 1;
  int64_t magnitude =
      point - static_cast<int64_t>(first) - 1 + exp;  // power of ten of the first digit
  return significant <= 38 && magnitude <= 125 && magnitude >= -130;
}

size_t AppendAttributeMap(size_t n, const std::function<std::string_view(size_t)>& name,
                          const std::function<const Value&(size_t)>& value, std::string& out,
                          std::vector<std::string>* warnings) {
  out += "{\"M\":{";
  size_t size = 3;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    std::string_view k = name(i);
    AppendJsonString(k, out);
    out += ':';
    size += k.size() + AppendAttributeValue(value(i), out, warnings) + 1;
  }
  out += "}}";
  return size;
}

size_t AppendAttributeValue(const Value& v, std::string& out, std::vector<std::string>* warnings) {
  return std::visit(AvWriter{out, warnings}, v.v);
}

size_t AppendJsonAsAttributeValue(std::string_view text, std::string& out,
                                  std::vector<std::string>* warnings) {
  return JsonToAv(text, out, warnings).Value();
}

std::optional<size_t> AppendSqlTextAsAttributeValue(SqlText kind, std::string_view s,
                                                    std::string& out,
                                                    std::vector<std::string>* warnings) {
  switch (kind) {
    case SqlText::kString:
      return AppendS(s, out);
    case SqlText::kDecimal:
      return AppendNumber(s, out, warnings);
    case SqlText::kJson:
      return AppendJsonAsAttributeValue(s, out, warnings);
    case SqlText::kInteger:
      if (!IsPlainInteger(s)) return std::nullopt;
      AppendTyped("N", s, out);
      return NumberSize(s);
    case SqlText::kDate:
      if (!IsIsoDate(s)) return std::nullopt;
      AppendTyped("S", s, out);  // digits and '-': nothing to escape
      return s.size();
  }
  return std::nullopt;
}

AttributeValue JsonTextToAttributeValue(std::string_view text, std::vector<std::string>* warnings) {
  std::string out;
  AppendJsonAsAttributeValue(text, out, warnings);
  return J::parse(out);
}

AttributeValue ToAttributeValue(const Value& v, std::vector<std::string>* warnings) {
  std::string out;
  AppendAttributeValue(v, out, warnings);
  return J::parse(out);
}

size_t AttributeValueSize(const AttributeValue& av) {
  return AvSize(av);
}

size_t ItemSize(const AttributeValue& item) {
  size_t n = 0;
  for (auto& [k, v] : item.items()) n += k.size() + AvSize(v);
  return n;
}

}  // namespace di
