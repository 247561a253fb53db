// libFuzzer target: the `.env` parser (config/dotenv.h) on any text. It must return the pairs
// or an error naming the line; whatever it accepts must name variables as a shell would.
#include "config/dotenv.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pairs = di::ParseDotEnv(di::fuzz::Text(data, size), ".env");
  if (!pairs.ok()) {
    di::fuzz::Check(pairs.status().message().rfind("line ", 0) == 0,
                    "a .env error does not name its line: " + pairs.status().message());
    return 0;
  }
  for (const auto& [name, value] : *pairs) {
    di::fuzz::Check(!name.empty() && name.find_first_of("= \t\n#") == std::string::npos,
                    "a .env name that no shell takes: '" + name + "'");
    (void)value;
  }
  return 0;
}
