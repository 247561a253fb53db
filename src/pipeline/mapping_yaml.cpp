#include "pipeline/mapping_yaml.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;
constexpr size_t kMaxValues = 100'000;
const std::string kStandardTag = "tag:yaml.org,2002:";

// A problem at a place of the text, thrown within the conversion and caught at its top.
struct YamlProblem {
  YAML::Mark mark;
  std::string what;
};

std::string Place(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1) + ": ";
}

// An integer of the core schema: [-+]?[0-9]+, 0o[0-7]+ or 0x[0-9a-fA-F]+. Non-negative ones
// are unsigned, as nlohmann's JSON parser makes them; a decimal past 64 bits is left to
// CoreFloat, as JSON's parser makes it a float.
std::optional<OJ> CoreInteger(const std::string& s, const YAML::Mark& mark) {
  static const std::regex kDecimal("[-+]?[0-9]+"), kOctal("0o[0-7]+"), kHex("0x[0-9a-fA-F]+");
  int base = std::regex_match(s, kDecimal) ? 10
             : std::regex_match(s, kOctal) ? 8
             : std::regex_match(s, kHex)   ? 16
                                           : 0;
  if (base == 0) return std::nullopt;
  bool negative = s[0] == '-';
  size_t skip = base != 10 ? 2 : (s[0] == '-' || s[0] == '+') ? 1 : 0;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data() + skip, s.data() + s.size(), v, base);
  bool too_large = ec != std::errc() || (negative && v > uint64_t{1} << 63);
  if (too_large && base != 10) throw YamlProblem{mark, "integer " + s + " exceeds 64 bits"};
  if (too_large) return std::nullopt;
  if (!negative) return OJ(v);
  return OJ(v == uint64_t{1} << 63 ? std::numeric_limits<int64_t>::min()
                                   : -static_cast<int64_t>(v));
}

// A float of the core schema, including .inf, -.inf and .nan.
std::optional<OJ> CoreFloat(const std::string& s) {
  static const std::regex kNumber(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  static const std::regex kInf(R"([-+]?\.(inf|Inf|INF))"), kNan(R"(\.(nan|NaN|NAN))");
  if (std::regex_match(s, kInf))
    return OJ((s[0] == '-' ? -1 : 1) * std::numeric_limits<double>::infinity());
  if (std::regex_match(s, kNan)) return OJ(std::numeric_limits<double>::quiet_NaN());
  if (!std::regex_match(s, kNumber)) return std::nullopt;
  return OJ(std::strtod(s.c_str(), nullptr));
}

OJ ScalarValue(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return s;  // quoted, a block scalar, or !!str: the text as written
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (auto i = CoreInteger(s, n.Mark())) return *i;
  if (auto f = CoreFloat(s)) return *f;
  return s;
}

// Only the tags that change nothing: none, "!", and the standard one of the node's kind.
void CheckTag(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  if (tag.empty() || tag == "?" || tag == "!") return;
  const char* own = n.IsMap() ? "map" : n.IsSequence() ? "seq" : n.IsScalar() ? "str" : "null";
  if (tag == kStandardTag + own) return;
  std::string shown = tag.starts_with(kStandardTag) ? "!!" + tag.substr(kStandardTag.size()) : tag;
  throw YamlProblem{n.Mark(), "tag " + shown + " is not supported; write the value without it"};
}

// Walks a document into JSON, counting values so that aliases cannot expand without end.
class Converter {
 public:
  OJ Value(const YAML::Node& n, int depth) {
    if (depth > kMaxDepth)
      throw YamlProblem{n.Mark(), "nested more than " + std::to_string(kMaxDepth) +
                                      " deep (an alias inside its own anchor?)"};
    if (++values_ > kMaxValues)
      throw YamlProblem{n.Mark(), "more than " + std::to_string(kMaxValues) +
                                      " values once aliases are expanded"};
    CheckTag(n);
    if (n.IsMap()) return Object(n, depth);
    if (n.IsSequence()) {
      OJ out = OJ::array();
      for (const auto& item : n) out.push_back(Value(item, depth + 1));
      return out;
    }
    if (n.IsScalar()) return ScalarValue(n);
    return nullptr;
  }

 private:
  OJ Object(const YAML::Node& n, int depth) {
    OJ out = OJ::object();
    std::map<std::string, YAML::Mark> first;
    for (const auto& kv : n) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar())
        throw YamlProblem{key.Mark(), "a key must be a name, not a list, a mapping or null"};
      auto [at, fresh] = first.emplace(key.Scalar(), key.Mark());
      if (!fresh)
        throw YamlProblem{key.Mark(), "key '" + key.Scalar() + "' given twice (first on line " +
                                          std::to_string(at->second.line + 1) + ")"};
      out[key.Scalar()] = Value(kv.second, depth + 1);
    }
    return out;
  }

  size_t values_ = 0;
};

// Where the first two documents of a text start, and their root nodes: the parser's events,
// nothing built. (yaml-cpp 0.7's LoadAll never returns, taking memory all the while, on a token
// no value can start with, "," for one: its parser gives an empty document at that token again
// and again without moving past it. Two documents that start at the same place tell it here.)
class DocumentMarks : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts, roots;

  void OnDocumentStart(const YAML::Mark& m) override { starts.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Root(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Root(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Root(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Root(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Root(m);
  }
  void OnMapEnd() override {}

 private:
  void Root(const YAML::Mark& m) {
    if (roots.size() < starts.size()) roots.push_back(m);
  }
};

// The one document of `text`; nullopt for none. Throws YAML::Exception or YamlProblem.
std::optional<YAML::Node> OnlyDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentMarks marks;
  while (marks.starts.size() < 2 && parser.HandleNextDocument(marks)) {
  }
  if (marks.starts.empty()) return std::nullopt;
  if (marks.starts.size() == 2 && marks.starts[1].pos == marks.starts[0].pos) {
    const size_t at = static_cast<size_t>(std::max(marks.starts[1].pos, 0));
    throw YAML::ParserException(marks.starts[1],
                                "no value can start with '" + text.substr(at, 1) + "'");
  }
  if (marks.starts.size() == 2)
    throw YamlProblem{marks.roots.size() > 1 ? marks.roots[1] : marks.starts[1],
                      "a second YAML document; the file must hold one"};
  return YAML::Load(text);
}

}  // namespace

Result<nlohmann::ordered_json> YamlToJson(const std::string& text, const std::string& origin) {
  std::optional<YAML::Node> doc;
  try {
    doc = OnlyDocument(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + " is not valid YAML: " + Place(e.mark) + e.msg);
  } catch (const YamlProblem& p) {
    return InvalidArgument(origin + ": " + Place(p.mark) + p.what);
  }
  if (!doc) return OJ(nullptr);
  try {
    return Converter().Value(*doc, 0);
  } catch (const YamlProblem& p) {
    return InvalidArgument(origin + ": " + Place(p.mark) + p.what);
  }
}

}  // namespace di
