#include "sources/factory.h"

#include "core/time_util.h"
#include "sources/mongo_source.h"
#include "sources/mysql_source.h"
#include "sources/postgres_source.h"

namespace di {

Result<std::unique_ptr<Source>> OpenSource(Engine engine, const Config& config) {
  if (engine == Engine::kMongo) return OpenMongoSource(config.mongo);
  ASSIGN_OR_RETURN(auto tz, TimeZone::Load(config.run.source_tz));
  if (engine == Engine::kMySql) return OpenMySqlSource({config.mysql, tz});
  return OpenPostgresSource({config.postgres, tz});
}

Result<Engine> ParseEngine(std::string_view name) {
  if (name == "mysql" || name == "mariadb") return Engine::kMySql;
  if (name == "postgresql" || name == "postgres") return Engine::kPostgres;
  if (name == "mongodb" || name == "mongo") return Engine::kMongo;
  return InvalidArgument("unknown engine '" + std::string(name) +
                         "'; expected mysql, postgresql or mongodb");
}

}  // namespace di
