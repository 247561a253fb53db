// What the writers that feed PostgreSQL's COPY FROM STDIN (the warehouse and restore)
// share: escaping a field of COPY's text format, quoting an array element, and ending a
// COPY.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace di {

// Backslash, newline, carriage return and tab escaped; NUL dropped (text cannot hold it).
void AppendCopyEscaped(std::string_view text, std::string& out);
// "text" with " and \ escaped, as an element of an array literal {…}.
void AppendArrayElementQuoted(std::string_view text, std::string& out);
// Ends a COPY FROM STDIN on `conn` and collects its result (every pending one drained); on
// failure the server's message, for the caller to prefix and roll back after.
Status EndCopyIn(PGconn* conn);

}  // namespace di
