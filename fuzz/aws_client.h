// An AwsClient (aws/client.h) over a transport of the fuzz target's, for the targets that hand
// the S3 and DynamoDB clients answers the input chose: no retries (each call sends once) and
// fixed credentials. Header-only.
#pragma once

#include <memory>

#include "aws/client.h"

namespace di::fuzz {

inline std::shared_ptr<aws::AwsClient> ClientOver(const std::string& service,
                                                  aws::HttpTransportPtr transport) {
  aws::ServiceOptions o;
  o.service = service;
  o.region = "eu-west-3";
  o.endpoint = "http://127.0.0.1:9";
  o.credentials = {"AKIDFUZZ", "fuzz-secret", ""};
  o.retry.max_attempts = 1;
  return std::make_shared<aws::AwsClient>(o, std::move(transport));
}

}  // namespace di::fuzz
