// A small XML reader for S3's answers: elements, text and the five entities plus numeric
// references. No namespaces, DTDs or attributes (S3 answers need none). Pure.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace di::aws {

struct XmlNode {
  std::string name;
  std::string text;  // the element's own text, entities decoded
  std::vector<XmlNode> children;

  const XmlNode* Child(std::string_view n) const;
  std::vector<const XmlNode*> Children(std::string_view n) const;
  std::string ChildText(std::string_view n) const;  // "" when absent
};

Result<XmlNode> ParseXml(std::string_view text);
std::string XmlEscape(std::string_view text);

}  // namespace di::aws
