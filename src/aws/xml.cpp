#include "aws/xml.h"

#include <cstdint>
#include <optional>

#include "core/strings.h"

namespace di::aws {
namespace {

// A character reference's code point: `ent` is "#233" or "#xE9" (between '&' and ';');
// nullopt when it is not one (no digits, another character, past U+10FFFF, a surrogate).
std::optional<uint32_t> CharReference(std::string_view ent) {
  const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
  const std::string_view digits = ent.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t cp = 0;
  for (char c : digits) {
    const int d = hex ? HexDigitValue(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (d < 0) return std::nullopt;
    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return std::nullopt;
  return cp;
}

// The text with its entities and character references decoded; one that is not (an unknown
// entity, a malformed reference) is kept as written.
std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (auto cp = !ent.empty() && ent[0] == '#' ? CharReference(ent) : std::nullopt)
      AppendUtf8(out, *cp);
    else
      out += s.substr(i, semi - i + 1);
    i = semi;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Result<XmlNode> Document() {
    SkipMisc();
    if (pos_ >= t_.size() || t_[pos_] != '<') return Corruption("XML: no root element");
    return Element(0);
  }

 private:
  void SkipMisc() {
    while (true) {
      while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
      if (t_.substr(pos_, 2) == "<?") {
        pos_ = Past("?>");
      } else if (t_.substr(pos_, 4) == "<!--") {
        pos_ = Past("-->");
      } else {
        return;
      }
    }
  }
  // Just past the next `s`; the end of the text when there is none (an unclosed comment or
  // declaration runs to the end).
  size_t Past(std::string_view s) {
    size_t p = t_.find(s, pos_);
    return p == std::string_view::npos ? t_.size() : p + s.size();
  }

  Result<XmlNode> Element(int depth) {
    if (depth > 64) return Corruption("XML: nesting too deep");
    ++pos_;  // '<'
    size_t end = t_.find_first_of(" \t\r\n/>", pos_);
    if (end == std::string_view::npos) return Corruption("XML: unterminated tag");
    XmlNode node;
    node.name = std::string(t_.substr(pos_, end - pos_));
    size_t close = t_.find('>', end);
    if (close == std::string_view::npos) return Corruption("XML: unterminated tag " + node.name);
    bool self_closing = t_[close - 1] == '/';
    pos_ = close + 1;
    if (self_closing) return node;
    while (pos_ < t_.size()) {
      size_t lt = t_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      node.text += Decode(t_.substr(pos_, lt - pos_));
      pos_ = lt;
      if (t_.substr(pos_, 9) == "<![CDATA[") {
        size_t e = t_.find("]]>", pos_);
        if (e == std::string_view::npos) return Corruption("XML: unterminated CDATA");
        node.text += t_.substr(pos_ + 9, e - pos_ - 9);
        pos_ = e + 3;
      } else if (t_.substr(pos_, 4) == "<!--") {
        pos_ = Past("-->");
      } else if (t_.substr(pos_, 2) == "</") {
        size_t gt = t_.find('>', pos_);
        if (gt == std::string_view::npos) return Corruption("XML: unterminated end tag");
        pos_ = gt + 1;
        if (node.children.size()) {
          // Mixed content: whitespace between children is not text.
          bool blank = node.text.find_first_not_of(" \t\r\n") == std::string::npos;
          if (blank) node.text.clear();
        }
        return node;
      } else {
        ASSIGN_OR_RETURN(XmlNode child, Element(depth + 1));
        node.children.push_back(std::move(child));
      }
    }
    return Corruption("XML: element " + node.name + " is not closed");
  }

  std::string_view t_;
  size_t pos_ = 0;
};

}  // namespace

const XmlNode* XmlNode::Child(std::string_view n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::Children(std::string_view n) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children)
    if (c.name == n) out.push_back(&c);
  return out;
}

std::string XmlNode::ChildText(std::string_view n) const {
  const XmlNode* c = Child(n);
  return c ? c->text : std::string();
}

Result<XmlNode> ParseXml(std::string_view text) {
  return Parser(text).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace di::aws
