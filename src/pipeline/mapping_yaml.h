// A YAML mapping file read into the JSON value it stands for, so that the mapping's checks
// (mapping.cpp) see a YAML file exactly as they see the same file written in JSON, and every
// message is the same (docs/dynamodb-mapping.md, "YAML").
//
// Scalars follow YAML 1.2's core schema. A quoted or block scalar is a string ("123" stays
// text). A plain one is null (~, null, empty), a boolean (true/false, also True/TRUE,
// False/FALSE), an integer (123, -4, 0o17, 0x1F), a float (1.5, 1e3, .inf, .nan), or else a
// string: YAML 1.1's yes/no/on/off/y/n are strings, so `backup: yes` is refused like JSON's
// "yes". Anchors and aliases are expanded; merge keys (<<) are not, and `<<` is an ordinary key.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace di {

// The one document of `text` as JSON (an empty text: null); `origin` names the file in messages.
// Refused, naming the line and column: a syntax error ("<origin> is not valid YAML: line 3,
// column 7: ..."), a key given twice in one mapping, a key that is a list, a mapping or null,
// a tag other than !!str/!!map/!!seq, a second document, nesting deeper than 64 (an alias
// inside its own anchor), more than 100,000 values once aliases are expanded, and an integer
// written in hex or octal that exceeds 64 bits.
Result<nlohmann::ordered_json> YamlToJson(const std::string& text, const std::string& origin);

}  // namespace di
