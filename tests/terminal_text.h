// For the tests of the progress display (unit and integration): what a terminal shows of
// the bytes written to it, as text.
#pragma once

#include <regex>
#include <string>
#include <vector>

namespace di::testing {

// The lines of `bytes` (each ended by a newline) with the escape sequences (CSI) and
// carriage returns taken out.
inline std::vector<std::string> PlainLines(const std::string& bytes) {
  std::string text = std::regex_replace(bytes, std::regex("\x1b\\[[0-9;]*[A-Za-z]|\r"), "");
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(text.substr(at, nl - at));
  return lines;
}

}  // namespace di::testing
