#include "pipeline/setup.h"

#include <filesystem>

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
  ASSIGN_OR_RETURN(auto specs, DynamoTableSpecs(config, mapping));
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

}  // namespace di
