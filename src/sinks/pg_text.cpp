#include "sinks/pg_text.h"

#include "core/strings.h"

namespace di {

void AppendCopyEscaped(std::string_view text, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        break;
      default:
        out += c;
    }
  }
}

void AppendArrayElementQuoted(std::string_view text, std::string& out) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

Status EndCopyIn(PGconn* conn) {
  if (PQputCopyEnd(conn, nullptr) != 1) return Unavailable(std::string(Trim(PQerrorMessage(conn))));
  PGresult* r = PQgetResult(conn);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string message = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  while ((r = PQgetResult(conn))) PQclear(r);
  return ok ? Status::Ok() : Unavailable(std::string(Trim(message)));
}

}  // namespace di
