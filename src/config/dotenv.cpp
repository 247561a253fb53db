#include "config/dotenv.h"

#include <cctype>

#include "core/strings.h"

namespace di {
namespace {

bool IsNameChar(char c, bool first) {
  return c == '_' || std::isalpha(static_cast<unsigned char>(c)) ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

Status LineError(std::string_view origin, size_t line, std::string_view what) {
  return InvalidArgument("line " + std::to_string(line) + " of " + std::string(origin) + ": " +
                         std::string(what));
}

// Reads a double-quoted value starting after the opening quote; `rest` is what follows the
// closing quote.
Result<std::string> ReadDoubleQuoted(std::string_view s, std::string_view* rest) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      *rest = s.substr(i + 1);
      return out;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      switch (n) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        default:
          out += n;
          break;  // \" \\ \$ and anything else: the character itself
      }
      continue;
    }
    out += c;
  }
  return InvalidArgument("unterminated double quote");
}

}  // namespace

Result<EnvPairs> ParseDotEnv(std::string_view text, std::string_view origin) {
  EnvPairs out;
  size_t line_no = 0;
  for (std::string_view raw : Split(text, '\n')) {
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (StartsWith(line, "export ")) line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return LineError(origin, line_no, "expected NAME=value");
    std::string_view name = Trim(line.substr(0, eq));
    if (name.empty() || !IsNameChar(name.front(), true))
      return LineError(origin, line_no, "a variable name must start with a letter or '_'");
    for (char c : name)
      if (!IsNameChar(c, false))
        return LineError(origin, line_no,
                         "'" + std::string(name) + "' is not a valid variable name");
    std::string_view v = Trim(line.substr(eq + 1));
    std::string value;
    if (!v.empty() && v.front() == '\'') {
      size_t close = v.find('\'', 1);
      if (close == std::string_view::npos)
        return LineError(origin, line_no, "unterminated single quote in " + std::string(name));
      value = std::string(v.substr(1, close - 1));
      v = Trim(v.substr(close + 1));
    } else if (!v.empty() && v.front() == '"') {
      std::string_view rest;
      auto r = ReadDoubleQuoted(v.substr(1), &rest);
      if (!r.ok())
        return LineError(origin, line_no, r.status().message() + " in " + std::string(name));
      value = std::move(r).value();
      v = Trim(rest);
    } else {
      // Unquoted: a `#` at its start or after a space starts a comment; the rest is the
      // value, trimmed (`NAME=   # comment` is an empty value).
      size_t hash = !v.empty() && v.front() == '#' ? 0 : v.find(" #");
      value = std::string(Trim(v.substr(0, hash)));
      v = {};
    }
    if (!v.empty() && v.front() != '#')
      return LineError(origin, line_no,
                       "unexpected text after the quoted value of " + std::string(name));
    out.emplace_back(std::string(name), std::move(value));
  }
  return out;
}

}  // namespace di
