// libFuzzer target: a JSON mapping file (pipeline/mapping.h, ParseMapping) on any text. It
// must give the tables or one error listing every problem, each naming where it is.
#include "fuzz/fuzz_support.h"
#include "pipeline/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(di::fuzz::Text(data, size));
  auto mapping = di::ParseMapping(text, "mapping.json", di::MappingFormat::kJson);
  if (!mapping.ok()) {
    di::fuzz::Check(mapping.status().message().find("mapping.json") != std::string::npos,
                    "a mapping error does not name the file: " + mapping.status().message());
    return 0;
  }
  for (const auto& m : *mapping) {
    (void)m.Name();
    if (m.dynamodb) (void)m.dynamodb->IndexKeys();
  }
  return 0;
}
