// Parser for `.env` files: KEY=VALUE lines, `#` comments, an optional `export `
// prefix, single quotes (literal) and double quotes (with \n \t \" \\ escapes).
// Pure: it never touches the process environment.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace di {

using EnvPairs = std::vector<std::pair<std::string, std::string>>;

// `origin` names the file in error messages ("line 3 of .env: ...").
Result<EnvPairs> ParseDotEnv(std::string_view text, std::string_view origin);

}  // namespace di
