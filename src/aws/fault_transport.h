// FaultTransport: wraps a real transport and injects scripted faults into chosen calls —
// throttling answers, 5xx answers, connection resets — or rewrites a call before it is
// forwarded. For tests that prove retries lose and duplicate nothing (like leveldb's
// FaultInjectionTestEnv). Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "aws/http.h"

namespace di::aws {

class FaultTransport : public HttpTransport {
 public:
  // Decides for one request whether to fault: returns true and fills `out` (a response, or a
  // status for a transport failure) to answer without forwarding.
  using Rule = std::function<bool(const HttpRequest&, Result<HttpResponse>* out)>;

  explicit FaultTransport(HttpTransportPtr inner) : inner_(std::move(inner)) {}

  Result<HttpResponse> Send(const HttpRequest& request) override;

  // Rules run in order; the first that answers wins. `times` limits how often it fires
  // (-1: always).
  void AddRule(Rule rule, int times = -1);
  int faults_injected() const;
  int forwarded() const;
  HttpTransport& inner() { return *inner_; }

  // Ready-made answers.
  static Result<HttpResponse> S3Error(long status, const std::string& code);
  static Result<HttpResponse> DynamoError(long status, const std::string& code);
  static Result<HttpResponse> ConnectionReset();
  // Matchers.
  static bool IsTarget(const HttpRequest& r, const std::string& dynamo_operation);
  static bool HasQuery(const HttpRequest& r, const std::string& name);

 private:
  struct Entry {
    Rule rule;
    int remaining;
  };
  HttpTransportPtr inner_;
  mutable std::mutex mu_;
  std::vector<Entry> rules_;
  int faults_ = 0;
  int forwarded_ = 0;
};

}  // namespace di::aws
