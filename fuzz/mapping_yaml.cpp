// libFuzzer target: a YAML mapping file (pipeline/mapping_yaml.h read into JSON, then
// pipeline/mapping.h's checks) on any text. Either the tables or an error naming the file;
// never a crash, an exception or a hang on aliases, anchors or deep nesting.
#include "pipeline/mapping_yaml.h"
#include "fuzz/fuzz_support.h"
#include "pipeline/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(di::fuzz::Text(data, size));
  auto json = di::YamlToJson(text, "mapping.yaml");
  auto mapping = di::ParseMapping(text, "mapping.yaml", di::MappingFormat::kYaml);
  di::fuzz::Check(json.ok() || !mapping.ok(), "a YAML refused by YamlToJson gave a mapping");
  if (!mapping.ok())
    di::fuzz::Check(mapping.status().message().find("mapping.yaml") != std::string::npos,
                    "a mapping error does not name the file: " + mapping.status().message());
  return 0;
}
