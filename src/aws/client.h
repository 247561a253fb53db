// AwsClient: signs and sends requests to one AWS service endpoint, with retries (retry.h).
// S3Client and DynamoDbClient are built on it. Thread-safe: one client serves all threads.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>

#include "aws/http.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/status.h"

namespace di::aws {

// An error answer of a service, parsed from its body.
struct AwsError {
  long http_status = 0;
  std::string code;
  std::string message;
  std::string request_id;
};

struct ServiceOptions {
  std::string service;  // "s3", "dynamodb", "iam"...
  std::string region;
  std::string endpoint;  // scheme://host[:port]; empty: the AWS endpoint of the region
  Credentials credentials;
  RetryOptions retry;
};

class AwsClient {
 public:
  using ErrorParser = std::function<AwsError(const HttpResponse&)>;

  AwsClient(ServiceOptions options, HttpTransportPtr transport, Clock& clock = SystemClock());

  // Fills scheme and host from the endpoint, signs, sends; retries as retry.h says. Returns
  // the last answer (a non-2xx one after its retries) or, when no answer came, Unavailable.
  // `sign` tweaks the signing options per call (S3: unsigned payload, no normalisation).
  Result<HttpResponse> Send(HttpRequest request, const ErrorParser& parse_error,
                            const std::function<void(SigningOptions&)>& sign = nullptr);

  const ServiceOptions& options() const { return options_; }
  const RetryStats& stats() const { return stats_; }
  // Tests replace the jitter source to make backoff waits predictable.
  void SetJitterSource(std::function<double()> uniform01) { jitter_ = std::move(uniform01); }

 private:
  ServiceOptions options_;
  HttpTransportPtr transport_;
  Clock& clock_;
  std::string scheme_;
  std::string host_;
  RetryBudget budget_;
  RetryStats stats_;
  std::function<double()> jitter_;
};

// The IAM permission a call needs: the action AWS checks ("s3:ListBucket" for HeadBucket) and
// the resource it checks it on ("arn:aws:s3:::bucket/key", "table cinema-users").
struct Permission {
  std::string action;
  std::string resource;
};

// "S3 NoSuchBucket: The specified bucket does not exist (HTTP 404, request id X)" as a Status
// whose code follows the error (NotFound, Unauthenticated, Throttled, Unavailable...), with
// `hint` appended when given. An access denial (AccessDenied, AccessDeniedException, a bare
// 403) of a call whose `needed` permission is given says the credentials lack that
// permission on that resource (docs/iam/ has each mode's policy).
Status ErrorStatus(const std::string& service, const AwsError& error, const std::string& hint = "",
                   const Permission& needed = {});
// "The credentials lack the permission <action> on <resource>: grant it ...", the sentence an
// access denial ends with.
std::string LacksPermission(const Permission& needed);

}  // namespace di::aws
