// Connecting to MySQL / MariaDB with the TLS mode of MYSQL_SSL_MODE (sources/mysql_source.h)
// on MariaDB Connector/C 3.3, whose options do less than their names say (tried against a
// server with TLS, one without, a wrong CA and a wrong host name):
//   MYSQL_OPT_SSL_ENFORCE              asks for TLS, but connects in plain text to a server
//                                      without it: that is PREFERRED
//   MYSQL_OPT_SSL_CA                   checks the chain against the file (none given: no check)
//   MYSQL_OPT_SSL_VERIFY_SERVER_CERT   checks the chain (the system's CAs when no file is
//                                      given) and the host name, and refuses a server
//                                      without TLS
// So REQUIRED and VERIFY_CA check after the connect that the session really has a cipher,
// and config refuses VERIFY_CA without MYSQL_SSL_CA.
#include <errmsg.h>
#include <mysql.h>

#include "sources/mysql_source.h"

namespace di {
namespace {

void ApplyTls(MYSQL* db, const SqlSettings& s) {
  my_bool tls = s.ssl_mode != "DISABLED" && !s.ssl_mode.empty() ? 1 : 0;
  my_bool identity = s.ssl_mode == "VERIFY_IDENTITY" ? 1 : 0;
  mysql_optionsv(db, MYSQL_OPT_SSL_ENFORCE, &tls);
  if (MySqlSslVerifies(s.ssl_mode) && !s.ssl_ca.empty())
    mysql_optionsv(db, MYSQL_OPT_SSL_CA, s.ssl_ca.c_str());
  mysql_optionsv(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &identity);
}

std::string TlsAsked(const SqlSettings& s) {
  return "MYSQL_SSL_MODE=" + s.ssl_mode +
         (s.ssl_ca.empty() ? std::string() : ", MYSQL_SSL_CA=" + s.ssl_ca);
}

}  // namespace

Status MySqlConnect(MYSQL* db, const SqlSettings& s) {
  unsigned int proto = MYSQL_PROTOCOL_TCP;
  mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
  ApplyTls(db, s);
  if (!mysql_real_connect(db, s.host.c_str(), s.user.c_str(), s.password.c_str(),
                          s.database.c_str(), static_cast<unsigned>(s.port), nullptr, 0)) {
    std::string err = mysql_error(db);
    StatusCode code =
        mysql_errno(db) == 1045 ? StatusCode::kUnauthenticated : StatusCode::kUnavailable;
    if (mysql_errno(db) == CR_SSL_CONNECTION_ERROR || err.find("SSL") != std::string::npos ||
        err.find("TLS") != std::string::npos)
      err += " (TLS: " + TlsAsked(s) + ")";
    return Status(code, err);
  }
  const bool required = s.ssl_mode != "DISABLED" && s.ssl_mode != "PREFERRED";
  if (required && mysql_get_ssl_cipher(db) == nullptr)
    return Unavailable("the server did not use TLS, but " + TlsAsked(s) +
                       " requires it; enable TLS on the server or set MYSQL_SSL_MODE=PREFERRED");
  return Status::Ok();
}

}  // namespace di
