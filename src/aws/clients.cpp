#include "aws/clients.h"

namespace di::aws {

RetryOptions RetryOptionsFrom(const RunSettings& run) {
  RetryOptions r;
  r.max_attempts = run.max_retries + 1;
  r.base_delay = run.retry_delay;
  return r;
}

Result<AwsClients> MakeAwsClients(const Config& config, const Env& env,
                                  HttpTransportPtr transport) {
  AwsClients out;
  ASSIGN_OR_RETURN(out.resolved, ResolveAws(config.aws, env));
  if (!transport) transport = MakeCurlTransport();
  ServiceOptions s3{"s3", out.resolved.region, out.resolved.s3_endpoint, out.resolved.credentials,
                    RetryOptionsFrom(config.run)};
  ServiceOptions ddb{"dynamodb", out.resolved.region, out.resolved.dynamodb_endpoint,
                     out.resolved.credentials, RetryOptionsFrom(config.run)};
  out.s3_transport = std::make_shared<AwsClient>(s3, transport);
  out.dynamodb_transport = std::make_shared<AwsClient>(ddb, transport);
  out.s3 = std::make_unique<S3Client>(out.s3_transport);
  out.dynamodb = std::make_unique<DynamoDbClient>(out.dynamodb_transport);
  return out;
}

}  // namespace di::aws
