#include "sinks/dynamo_item.h"

#include <cctype>
#include <cmath>

#include "core/json_encode.h"

namespace di {
namespace {

using J = nlohmann::json;

J S(std::string s) {
  return J{{"S", std::move(s)}};
}

J Number(const std::string& text, std::vector<std::string>* warnings) {
  if (FitsDynamoNumber(text)) return J{{"N", text}};
  if (warnings) warnings->push_back("number " + text + " does not fit DynamoDB's N; stored as S");
  return S(text);
}

// A JSON parser that keeps number text: enough for valid JSON from a database.
class JsonToAv {
 public:
  JsonToAv(std::string_view t, std::vector<std::string>* w) : t_(t), w_(w) {}
  J Parse() {
    J v = Value();
    return v;
  }

 private:
  void Ws() {
    while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
  }
  J Value() {
    Ws();
    if (p_ >= t_.size()) return J{{"NULL", true}};
    char c = t_[p_];
    if (c == '{') {
      ++p_;
      J m = J::object();
      Ws();
      if (p_ < t_.size() && t_[p_] == '}') {
        ++p_;
        return J{{"M", m}};
      }
      while (p_ < t_.size()) {
        Ws();
        std::string k = String();
        Ws();
        ++p_;  // ':'
        m[k] = Value();
        Ws();
        if (p_ < t_.size() && t_[p_] == ',') {
          ++p_;
          continue;
        }
        ++p_;  // '}'
        break;
      }
      return J{{"M", m}};
    }
    if (c == '[') {
      ++p_;
      J l = J::array();
      Ws();
      if (p_ < t_.size() && t_[p_] == ']') {
        ++p_;
        return J{{"L", l}};
      }
      while (p_ < t_.size()) {
        l.push_back(Value());
        Ws();
        if (p_ < t_.size() && t_[p_] == ',') {
          ++p_;
          continue;
        }
        ++p_;  // ']'
        break;
      }
      return J{{"L", l}};
    }
    if (c == '"') return S(String());
    if (t_.substr(p_, 4) == "true") return p_ += 4, J{{"BOOL", true}};
    if (t_.substr(p_, 5) == "false") return p_ += 5, J{{"BOOL", false}};
    if (t_.substr(p_, 4) == "null") return p_ += 4, J{{"NULL", true}};
    size_t start = p_;
    while (p_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[p_])) || t_[p_] == '-' ||
                              t_[p_] == '+' || t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E'))
      ++p_;
    return Number(std::string(t_.substr(start, p_ - start)), w_);
  }
  std::string String() {
    // Reuse nlohmann for escapes: find the closing quote, then decode that literal.
    size_t start = p_++;
    while (p_ < t_.size() && t_[p_] != '"') p_ += t_[p_] == '\\' ? 2 : 1;
    ++p_;
    return J::parse(t_.substr(start, p_ - start)).get<std::string>();
  }

  std::string_view t_;
  std::vector<std::string>* w_;
  size_t p_ = 0;
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

AttributeValue JsonTextToAttributeValue(std::string_view text, std::vector<std::string>* warnings) {
  return JsonToAv(text, warnings).Parse();
}

AttributeValue ToAttributeValue(const Value& v, std::vector<std::string>* warnings) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return J{{"NULL", true}};
    case ValueKind::kBool:
      return J{{"BOOL", v.as<bool>()}};
    case ValueKind::kInt64:
      return J{{"N", std::to_string(v.as<int64_t>())}};
    case ValueKind::kUInt64:
      return J{{"N", std::to_string(v.as<uint64_t>())}};
    case ValueKind::kInt32:
      return J{{"N", std::to_string(v.as<Int32>().v)}};
    case ValueKind::kDouble: {
      double d = v.as<double>();
      if (!std::isfinite(d)) {
        if (warnings) warnings->push_back("double " + FormatDouble(d) + " stored as S");
        return S(FormatDouble(d));
      }
      return Number(FormatDouble(d), warnings);
    }
    case ValueKind::kDecimal:
      return Number(v.as<Decimal>().text, warnings);
    case ValueKind::kString:
      return S(v.as<std::string>());
    case ValueKind::kBytes:
      return J{{"B", Base64Encode(v.as<Bytes>().data)}};
    case ValueKind::kDate:
      return S(FormatDate(v.as<Date>().days));
    case ValueKind::kTime:
      return S(FormatTime(v.as<TimeOfDay>().micros));
    case ValueKind::kTimestamp:
      return S(FormatTimestamp(v.as<Timestamp>().micros));
    case ValueKind::kBsonDate:
      return S(FormatTimestamp(v.as<BsonDate>().millis * 1000));
    case ValueKind::kJson:
      return JsonTextToAttributeValue(v.as<Json>().text, warnings);
    case ValueKind::kArray: {
      J l = J::array();
      for (const auto& x : v.as<Array>().items) l.push_back(ToAttributeValue(x, warnings));
      return J{{"L", l}};
    }
    case ValueKind::kDocument: {
      J m = J::object();
      for (const auto& [k, x] : v.as<Document>().fields) m[k] = ToAttributeValue(x, warnings);
      return J{{"M", m}};
    }
    case ValueKind::kObjectId:
      return S(ObjectIdHex(v.as<ObjectId>()));
    case ValueKind::kBsonTimestamp:
      return J{{"M",
                {{"t", {{"N", std::to_string(v.as<BsonTimestamp>().t)}}},
                 {"i", {{"N", std::to_string(v.as<BsonTimestamp>().i)}}}}}};
    case ValueKind::kRegex:
      return S("/" + v.as<Regex>().pattern + "/" + v.as<Regex>().options);
    case ValueKind::kMinKey:
      return S("MinKey");
    case ValueKind::kMaxKey:
      return S("MaxKey");
  }
  return J{{"NULL", true}};
}

size_t ItemSize(const AttributeValue& item) {
  size_t n = 0;
  for (auto& [k, v] : item.items()) n += k.size() + AvSize(v);
  return n;
}

}  // namespace di
