#include "aws/client.h"

#include <mutex>

#include "core/strings.h"

namespace di::aws {
namespace {

std::string DefaultEndpoint(const ServiceOptions& o) {
  if (o.service == "s3")
    return o.region == "us-east-1" ? "https://s3.amazonaws.com"
                                   : "https://s3." + o.region + ".amazonaws.com";
  if (o.service == "iam") return "https://iam.amazonaws.com";
  return "https://" + o.service + "." + o.region + ".amazonaws.com";
}

double RandomUniform() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

AwsClient::AwsClient(ServiceOptions options, HttpTransportPtr transport, Clock& clock)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      budget_(options_.retry.budget_tokens),
      jitter_(RandomUniform) {
  std::string endpoint = options_.endpoint.empty() ? DefaultEndpoint(options_) : options_.endpoint;
  size_t sep = endpoint.find("://");
  scheme_ = endpoint.substr(0, sep);
  host_ = endpoint.substr(sep + 3);
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
}

Result<HttpResponse> AwsClient::Send(HttpRequest request, const ErrorParser& parse_error,
                                     const std::function<void(SigningOptions&)>& sign) {
  request.scheme = scheme_;
  request.host = host_;
  request.SetHeader("Host", host_);
  int taken = 0;
  Status last_failure;
  for (int attempt = 1;; ++attempt) {
    HttpRequest signed_request = request;
    SigningOptions so;
    so.region = options_.region;
    so.service = options_.service;
    so.time = clock_.Now();
    if (sign) sign(so);
    SignRequest(signed_request, options_.credentials, so);
    stats_.attempts++;
    Result<HttpResponse> r = transport_->Send(signed_request);
    RetryKind kind = RetryKind::kNone;
    if (!r.ok()) {
      if (r.status().code() != StatusCode::kUnavailable) return r.status();
      kind = StartsWith(r.status().message(), "Timeout") ||
                     r.status().message().find("Timeout") != std::string::npos
                 ? RetryKind::kTimeout
                 : RetryKind::kTransient;
      last_failure = r.status();
    } else if (r->status >= 300) {
      AwsError e = parse_error(*r);
      kind = ClassifyError(r->status, e.code);
    } else {
      budget_.OnSuccess(taken);
      return r;
    }
    if (kind == RetryKind::kThrottle) stats_.throttled++;
    bool can_retry = kind != RetryKind::kNone && attempt < options_.retry.max_attempts &&
                     (!request.retry_safe || request.retry_safe());
    if (can_retry && !budget_.TryAcquire(kind)) {
      stats_.budget_exhausted++;
      can_retry = false;
    }
    if (!can_retry) {
      if (r.ok()) return r;
      return Unavailable(last_failure.message() + " (after " + std::to_string(attempt) +
                         (attempt == 1 ? " attempt)" : " attempts)"));
    }
    taken += RetryBudget::Cost(kind);
    stats_.retries++;
    clock_.SleepFor(BackoffDelay(options_.retry, attempt, jitter_()));
  }
}

std::string LacksPermission(const Permission& needed) {
  return "The credentials lack the permission " + needed.action + " on " + needed.resource +
         ": grant it to their IAM user or role (docs/iam/ has the policy each mode needs)";
}

Status ErrorStatus(const std::string& service, const AwsError& e, const std::string& hint,
                   const Permission& needed) {
  std::string msg = service + " " + (e.code.empty() ? "error" : e.code) +
                    (e.message.empty() ? "" : ": " + e.message) + " (HTTP " +
                    std::to_string(e.http_status) +
                    (e.request_id.empty() ? "" : ", request id " + e.request_id) + ")";
  if (!hint.empty()) msg += ". " + hint;
  const bool denied = e.code == "AccessDenied" || e.code == "AccessDeniedException" ||
                      (e.http_status == 403 && (e.code.empty() || e.code == "Forbidden"));
  if (denied && !needed.action.empty())
    return Unauthenticated(msg + ". " + LacksPermission(needed));
  static const char* kAuth[] = {"InvalidAccessKeyId",
                                "SignatureDoesNotMatch",
                                "UnrecognizedClientException",
                                "InvalidSignatureException",
                                "AccessDenied",
                                "AccessDeniedException",
                                "ExpiredToken",
                                "ExpiredTokenException",
                                "InvalidClientTokenId",
                                "MissingAuthenticationToken"};
  for (const char* c : kAuth)
    if (e.code == c)
      return Unauthenticated(msg + (hint.empty() ? ". Check the AWS credentials and region" : ""));
  switch (ClassifyError(e.http_status, e.code)) {
    case RetryKind::kThrottle:
      return Throttled(msg);
    case RetryKind::kTransient:
    case RetryKind::kTimeout:
      return Unavailable(msg);
    case RetryKind::kNone:
      break;
  }
  if (e.http_status == 404 || e.code == "ResourceNotFoundException" || e.code == "NoSuchBucket" ||
      e.code == "NoSuchKey" || e.code == "NoSuchUpload")
    return NotFound(msg);
  if (e.http_status == 401 || e.http_status == 403) return Unauthenticated(msg);
  if (e.http_status == 409) return AlreadyExists(msg);
  return InvalidArgument(msg);
}

}  // namespace di::aws
