// Builds the S3 and DynamoDB clients from the configuration: credentials chain, region,
// endpoints, retries (MAX_RETRIES, RETRY_DELAY) and one shared HTTP transport.
#pragma once

#include <memory>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "config/config.h"

namespace di::aws {

struct AwsClients {
  ResolvedAws resolved;
  std::unique_ptr<S3Client> s3;
  std::unique_ptr<DynamoDbClient> dynamodb;
  // The signing/retrying clients under them, for their retry statistics.
  std::shared_ptr<AwsClient> s3_transport, dynamodb_transport;
};

RetryOptions RetryOptionsFrom(const RunSettings& run);
Result<AwsClients> MakeAwsClients(const Config& config, const Env& env,
                                  HttpTransportPtr transport = nullptr);

}  // namespace di::aws
