#include "sources/factory.h"

#include "core/time_util.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"

namespace di {
namespace {

// Long enough for a run to go from listing its tables to its first worker; short enough that
// a parked connection is not one the server has since dropped.
constexpr std::chrono::seconds kParkedFor{5};

// What a connection was opened with (held in memory only: it includes the password).
std::string KeyOf(Engine engine, const Config& config, const std::string& database) {
  if (engine == Engine::kMongo)
    return "mongodb\n" + config.mongo.uri + "\n" +
           (database.empty() ? config.mongo.database : database);
  const SqlSettings& s = engine == Engine::kMySql ? config.mysql : config.postgres;
  return EngineName(engine) + "\n" + s.host + "\n" + std::to_string(s.port) + "\n" + s.user + "\n" +
         s.password + "\n" + (database.empty() ? s.database : database) + "\n" + s.ssl_mode + "\n" +
         s.ssl_ca + "\n" + config.run.source_tz;
}

}  // namespace

void SourceFactory::Park(Engine, const std::string&, std::unique_ptr<Source>) {}

// The source parked under `key`, if one is; expired ones are closed.
std::unique_ptr<Source> ServerSources::TakeParked(const std::string& key) {
  std::vector<std::unique_ptr<Source>> expired;  // closed outside the lock
  std::unique_ptr<Source> found;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (now - it->at > kParkedFor) {
        expired.push_back(std::move(it->source));
        it = parked_.erase(it);
      } else if (!found && it->key == key) {
        found = std::move(it->source);
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return found;
}

void ServerSources::Park(Engine engine, const std::string& database,
                         std::unique_ptr<Source> source) {
  if (!source) return;
  std::lock_guard lock(mu_);
  parked_.push_back(
      {KeyOf(engine, config_, database), std::move(source), std::chrono::steady_clock::now()});
}

Result<std::unique_ptr<Source>> ServerSources::Open(Engine engine, const std::string& database) {
  if (auto source = TakeParked(KeyOf(engine, config_, database))) return source;
  return OpenSource(engine, config_, database);
}

Result<std::unique_ptr<Source>> OpenSource(Engine engine, const Config& config,
                                           const std::string& database) {
  if (engine == Engine::kMongo) {
    MongoSettings m = config.mongo;
    if (!database.empty()) m.database = database;
    return OpenMongoSource(m);
  }
  ASSIGN_OR_RETURN(auto tz, TimeZone::Load(config.run.source_tz));
  SqlSettings s = engine == Engine::kMySql ? config.mysql : config.postgres;
  if (!database.empty()) s.database = database;
  if (engine == Engine::kMySql) return OpenMySqlSource({s, tz});
  return OpenPostgresSource({s, tz});
}

Result<Engine> ParseEngine(std::string_view name) {
  if (name == "mysql" || name == "mariadb") return Engine::kMySql;
  if (name == "postgresql" || name == "postgres") return Engine::kPostgres;
  if (name == "mongodb" || name == "mongo") return Engine::kMongo;
  return InvalidArgument("unknown engine '" + std::string(name) +
                         "'; expected mysql, postgresql or mongodb");
}

}  // namespace di
