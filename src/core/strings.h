// Small string helpers shared by config, parsers and formatting. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace di {

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view tail);
bool AllDigits(std::string_view s);  // true for "" too
// An integer in its shortest spelling ("-12", "0"; not "007", "-0", "+1") of at most 18
// digits: parsing it as int64 and writing it back gives the same text (a source's integer
// column can go to JSON as it is).
bool IsPlainInteger(std::string_view s);
// Whole-string decimal parse; nullopt on junk, sign where not allowed, or overflow.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);
// 0-15 for a hex digit, -1 otherwise.
int HexDigitValue(char c);
// The code point `cp` (at most U+10FFFF) as UTF-8, appended to `out`.
void AppendUtf8(std::string& out, unsigned long cp);
// An SQL identifier quoted with `q` (" for PostgreSQL, ` for MySQL), quotes doubled.
std::string QuoteIdentifier(std::string_view ident, char q);
// "a, b and c" for messages.
std::string JoinHuman(const std::vector<std::string>& items, std::string_view last_sep = " or ");

}  // namespace di
