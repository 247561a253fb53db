// PostgreSQL text formats shared by the writers that feed COPY FROM STDIN (the warehouse
// and restore): escaping a field of COPY's text format, and quoting an array element.
#pragma once

#include <string>
#include <string_view>

namespace di {

// Backslash, newline, carriage return and tab escaped; NUL dropped (text cannot hold it).
void AppendCopyEscaped(std::string_view text, std::string& out);
// "text" with " and \ escaped, as an element of an array literal {…}.
void AppendArrayElementQuoted(std::string_view text, std::string& out);

}  // namespace di
