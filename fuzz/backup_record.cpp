// libFuzzer target: reading a backup record line as restore does (sinks/backup_record.h):
// split into fields without a JSON tree, strings unescaped, arrays split to any depth,
// timestamps turned into wall time and base64 into hex (sinks/record_text.h). Held to a
// full JSON parser: a line that is a JSON object must split into its members, each string
// unescaping to the same text.
#include <set>

#include <nlohmann/json.hpp>

#include "core/time_util.h"
#include "fuzz/fuzz_support.h"
#include "sinks/backup_record.h"
#include "sinks/record_text.h"

namespace {

using di::RecordField;

// Every value below `f` read the way the database sinks read it.
void ReadValue(const RecordField& f, int depth) {
  std::string text;
  if (f.kind == RecordField::kString) {
    if (!di::AppendUnescaped(f.value, text)) return;
    static const auto berlin = di::TimeZone::Load("Europe/Berlin");
    (void)di::WallTime(text, berlin.ok() ? **berlin : *di::TimeZone::Utc());
    (void)di::HexOfBase64(text);
  } else if (f.kind == RecordField::kArray && depth < 64) {
    std::vector<RecordField> elements;
    if (di::SplitArray(f.value, &elements))
      for (const auto& e : elements) ReadValue(e, depth + 1);
  } else if (f.kind == RecordField::kObject && depth < 64) {
    std::vector<RecordField> members;
    if (di::SplitRecord(f.value, &members))
      for (const auto& m : members) ReadValue(m, depth + 1);
  }
}

// The line as nlohmann reads it: each member's key and string value must be what the
// splitter gives.
void CompareWithParser(std::string_view line, const std::vector<RecordField>* fields, bool split) {
  // (nlohmann's parser ends its input at a NUL byte: "{}\0junk" is {} to it, not to a record)
  if (line.find('\0') != std::string_view::npos) return;
  auto tree = nlohmann::ordered_json::parse(line, nullptr, false);
  if (tree.is_discarded() || !tree.is_object()) return;
  di::fuzz::Check(split, "a JSON object the record splitter refuses");
  std::multiset<std::string> keys;
  for (const auto& f : *fields) {
    std::string key;
    di::fuzz::Check(di::AppendUnescaped(f.key, key), "a JSON key the splitter cannot unescape");
    keys.insert(key);
  }
  for (const auto& f : *fields) {
    std::string key;
    (void)di::AppendUnescaped(f.key, key);
    auto it = tree.find(key);
    di::fuzz::Check(it != tree.end(), "a key the splitter found that JSON does not have");
    // (a key given twice: JSON keeps its last value)
    if (f.kind == RecordField::kString && it->is_string() && keys.count(key) == 1) {
      std::string value;
      di::fuzz::Check(di::AppendUnescaped(f.value, value) && value == it->get<std::string>(),
                      "a string the splitter unescapes otherwise than JSON: " + key);
    }
  }
  di::fuzz::Check(std::set<std::string>(keys.begin(), keys.end()).size() == tree.size(),
                  "the splitter and JSON count other members");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line = di::fuzz::Text(data, size);
  std::vector<RecordField> fields;
  bool split = di::SplitRecord(line, &fields);
  if (split)
    for (const auto& f : fields) ReadValue(f, 0);
  CompareWithParser(line, &fields, split);
  std::vector<RecordField> elements;
  if (di::SplitArray(line, &elements))
    for (const auto& e : elements) ReadValue(e, 0);
  return 0;
}
