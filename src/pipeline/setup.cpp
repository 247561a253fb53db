#include "pipeline/setup.h"

#include <filesystem>

namespace di {

std::vector<aws::TableSpec> CinemaTableSpecs(const DynamoSettings& d) {
  using aws::IndexSpec;
  using aws::KeyAttribute;
  return {
      {d.movies_table,
       {"movie_id", "S"},
       std::nullopt,
       {IndexSpec{"genre-index", {"genre", "S"}, KeyAttribute{"release_date", "S"}}}},
      {d.rooms_table,
       {"room_id", "N"},
       std::nullopt,
       {IndexSpec{"screen_type-index", {"screen_type", "S"}, std::nullopt}}},
      {d.reservations_table,
       {"reservation_id", "N"},
       std::nullopt,
       {IndexSpec{"user_id-index", {"user_id", "N"}, KeyAttribute{"created_at", "S"}},
        IndexSpec{"movie_id-index", {"movie_id", "S"}, KeyAttribute{"created_at", "S"}}}},
      {d.users_table,
       {"user_id", "N"},
       std::nullopt,
       {IndexSpec{"email-index", {"email", "S"}, std::nullopt}}},
      {d.state_table, {"pk", "S"}, KeyAttribute{"sk", "S"}, {}},
  };
}

Result<SetupReport> RunSetup(const Config& config, aws::S3Client& s3,
                             aws::DynamoDbClient& dynamodb) {
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
  for (const auto& spec : CinemaTableSpecs(config.dynamodb)) {
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

}  // namespace di
