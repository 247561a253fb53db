// Reading the records of a backup part (docs/formats.md, "Backup parts"): a line is one JSON
// object, split here into its fields without building a JSON tree, so that restore can turn
// a record into the target's text with one pass over its bytes and no allocation per value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace di {

struct RecordField {
  enum Kind : char {
    kNull = 'n',
    kTrue = 't',
    kFalse = 'f',
    kNumber = '0',
    kString = '"',
    kArray = '[',
    kObject = '{',
  };
  std::string_view key;  // between its quotes, escapes as they are
  bool key_escaped = false;
  std::string_view value;  // kString: between its quotes, escapes as they are; else its text
  bool value_escaped = false;
  Kind kind = kNull;
};

// `line` as its fields in order; false when it is not one JSON object. Nested arrays and
// objects are delimited, not checked (a full parser reads them); strings and literals are.
bool SplitRecord(std::string_view line, std::vector<RecordField>* fields);

// A JSON array's elements in order (key unset); false when `array` is not one array.
bool SplitArray(std::string_view array, std::vector<RecordField>* elements);

// The text of a JSON string (between its quotes) with its escapes decoded, \uXXXX (and
// surrogate pairs) as UTF-8, appended to `out`; false on a malformed escape.
bool AppendUnescaped(std::string_view inner, std::string& out);

}  // namespace di
