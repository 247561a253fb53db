#include "sinks/pg_text.h"

#include "core/strings.h"

namespace di {

void AppendCopyEscaped(std::string_view text, std::string& out) {
  size_t run = 0;  // the start of the bytes not yet appended, which need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\' && c != '\n' && c != '\r' && c != '\t' && c != '\0') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (c == '\0') continue;
    out += '\\';
    out += c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
  }
  out.append(text.data() + run, text.size() - run);
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
