#include "pipeline/setup.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "sources/pg_replication.h"

namespace di {

Result<SetupReport> RunSetup(const Config& config, const std::vector<TableMapping>& mapping,
                             aws::S3Client& s3, aws::DynamoDbClient& dynamodb) {
  SetupReport report;
  if (config.s3.is_local()) {
    std::error_code ec;
    bool made = std::filesystem::create_directories(config.s3.local_path(), ec);
    if (ec)
      return InvalidArgument("S3_BUCKET_NAME: cannot create " + config.s3.local_path() + ": " +
                             ec.message());
    (made ? report.created : report.existed).push_back("local backup location " + config.s3.bucket);
  } else {
    ASSIGN_OR_RETURN(bool made, s3.CreateBucket(config.s3.bucket));
    (made ? report.created : report.existed).push_back("S3 bucket " + config.s3.bucket);
  }
  ASSIGN_OR_RETURN(auto specs, DynamoTableSpecs(config, mapping, &report.notes));
  for (const auto& spec : specs) {
    ASSIGN_OR_RETURN(bool made, dynamodb.CreateTable(spec));
    RETURN_IF_ERROR(dynamodb.WaitUntilActive(spec.name, std::chrono::seconds(120)));
    std::string what = "DynamoDB table " + spec.name;
    if (!spec.global_indexes.empty()) {
      what += " (indexes:";
      for (const auto& g : spec.global_indexes) what += " " + g.name;
      what += ")";
    }
    (made ? report.created : report.existed).push_back(what);
  }
  return report;
}

std::string StreamSlotName(const Config& config, const std::string& database) {
  if (database.empty() || database == config.postgres.database) return config.stream.slot;
  std::string name = config.stream.slot + "_";
  for (char c : database) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += (std::isalnum(static_cast<unsigned char>(l)) && static_cast<unsigned char>(l) < 128)
                ? l
                : '_';
  }
  return name.substr(0, 63);
}

Result<SetupReport> RunStreamSetup(const Config& config, const std::vector<TableMapping>& mapping) {
  std::map<std::string, std::vector<std::string>> tables;  // database -> its tables, once each
  auto add = [&](const std::string& db, const std::string& t) {
    auto& list = tables[db.empty() ? config.postgres.database : db];
    if (std::find(list.begin(), list.end(), t) == list.end()) list.push_back(t);
  };
  for (const auto& m : mapping) {
    if (m.engine != Engine::kPostgres) continue;
    add(m.database, m.table);
    if (m.dynamodb)
      for (const auto& e : m.dynamodb->embed) add(m.database, e.table);
  }
  SetupReport report;
  for (const auto& [database, list] : tables) {
    SqlSettings s = config.postgres;
    s.database = database;
    ASSIGN_OR_RETURN(auto repl, PgReplication::Connect(s));
    RETURN_IF_ERROR(repl->CheckServer());
    ASSIGN_OR_RETURN(auto pub, repl->EnsurePublication(config.stream.publication, list));
    (pub.created ? report.created : report.existed).push_back(pub.what);
    for (const auto& m : mapping) {
      if (m.engine != Engine::kPostgres || !m.dynamodb ||
          (m.database.empty() ? config.postgres.database : m.database) != database)
        continue;
      for (const auto& e : m.dynamodb->embed) {
        ASSIGN_OR_RETURN(auto id, repl->EnsureIdentityHas(e.table, e.child_column));
        (id.created ? report.created : report.existed).push_back(id.what);
      }
    }
    ASSIGN_OR_RETURN(auto slot, repl->EnsureSlot(StreamSlotName(config, database)));
    (slot.created ? report.created : report.existed).push_back(slot.what);
  }
  if (tables.empty())
    report.existed.push_back("no PostgreSQL table mapped: no publication or slot to set up");
  return report;
}

}  // namespace di
