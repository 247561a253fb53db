#include "aws/fault_transport.h"

namespace di::aws {

Result<HttpResponse> FaultTransport::Send(const HttpRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : rules_) {
      if (e.remaining == 0) continue;
      Result<HttpResponse> out = HttpResponse{};
      if (e.rule(request, &out)) {
        if (e.remaining > 0) --e.remaining;
        ++faults_;
        return out;
      }
    }
    ++forwarded_;
  }
  return inner_->Send(request);
}

void FaultTransport::AddRule(Rule rule, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({std::move(rule), times});
}

int FaultTransport::faults_injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}

int FaultTransport::forwarded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return forwarded_;
}

Result<HttpResponse> FaultTransport::S3Error(long status, const std::string& code) {
  HttpResponse r;
  r.status = status;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
           "</Code><Message>injected fault</Message><RequestId>FAULT</RequestId></Error>";
  return r;
}

Result<HttpResponse> FaultTransport::DynamoError(long status, const std::string& code) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#" + code +
           "\",\"message\":\"injected fault\"}";
  return r;
}

Result<HttpResponse> FaultTransport::ConnectionReset() {
  return Unavailable("injected fault: Connection reset by peer");
}

bool FaultTransport::IsTarget(const HttpRequest& r, const std::string& op) {
  const std::string* t = r.FindHeader("X-Amz-Target");
  return t && *t == "DynamoDB_20120810." + op;
}

bool FaultTransport::HasQuery(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.query)
    if (k == name) return true;
  return false;
}

}  // namespace di::aws
