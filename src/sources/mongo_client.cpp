// The MongoDB client that the source and restore share (sources/mongo_source.h): the
// driver initialised once (thread-safe), a client made from the URI with 10 s timeouts,
// and pinged, so a wrong address or password fails here, with the server's name.
#include <mongoc/mongoc.h>

#include <cstring>
#include <mutex>

#include "core/lazy_lib.h"
#include "core/log.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

spdlog::level::level_enum DriverLevel(mongoc_log_level_t level) {
  switch (level) {
    case MONGOC_LOG_LEVEL_ERROR:
      return spdlog::level::err;
    case MONGOC_LOG_LEVEL_CRITICAL:
      return spdlog::level::critical;
    case MONGOC_LOG_LEVEL_WARNING:
      return spdlog::level::warn;
    case MONGOC_LOG_LEVEL_MESSAGE:
    case MONGOC_LOG_LEVEL_INFO:
      return spdlog::level::info;
    case MONGOC_LOG_LEVEL_DEBUG:
      return spdlog::level::debug;
    default:
      return spdlog::level::trace;
  }
}

}  // namespace

Result<mongoc_client_t*> OpenMongoClient(const MongoSettings& settings, std::string* where) {
  RETURN_IF_ERROR(kMongocLibrary.Load());
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    // The driver's messages go through the service's logs (redacted, LOG_LEVEL, LOG_FILE,
    // above the progress display), not straight to stderr. FerretDB has no endSessions;
    // the driver's warning about it at every close is noise.
    mongoc_log_set_handler(
        [](mongoc_log_level_t level, const char* domain, const char* message, void*) {
          if (std::strstr(message, "endSessions") == nullptr)
            GetLogger("mongodb")->log(DriverLevel(level), "{}: {}", domain, message);
        },
        nullptr);
  });
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(settings.uri.c_str(), &error);
  if (!uri) return InvalidArgument("MONGODB_URI: " + std::string(error.message));
  if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 10000);
  if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 10000);
  const mongoc_host_list_t* hosts = mongoc_uri_get_hosts(uri);
  *where = "MongoDB " + std::string(hosts ? hosts->host_and_port : "?") + "/" + settings.database;
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  mongoc_uri_destroy(uri);
  if (!client) return InvalidArgument(*where + ": cannot create a client from MONGODB_URI");
  mongoc_client_set_appname(client, "data-ingestion");
  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  bool ok = mongoc_client_command_simple(client, "admin", ping, nullptr, nullptr, &error);
  bson_destroy(ping);
  if (!ok) {
    mongoc_client_destroy(client);
    StatusCode code =
        error.domain == MONGOC_ERROR_CLIENT && error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE
            ? StatusCode::kUnauthenticated
            : StatusCode::kUnavailable;
    return Status(code, *where + ": cannot connect: " + error.message);
  }
  return client;
}

}  // namespace di
