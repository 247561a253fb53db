#include "sources/factory.h"

#include "core/time_util.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"

namespace di {

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
