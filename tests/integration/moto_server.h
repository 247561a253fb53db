// A moto server of a test's own with IAM on: started with INITIAL_NO_AUTH_ACTION_COUNT=3 (the
// three calls iam_users.py makes its first user with are the only unsigned ones; every later
// request must be signed by a user allowed to make it), on a free loopback port, every
// request recorded (MOTO_ENABLE_RECORDING, for tests/integration/iam_audit.py) and answered
// in its access log. Stopped when destroyed. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "child_process.h"

namespace di::testing {

class MotoServer {
 public:
  MotoServer();  // waits until it answers (or ends); see up()
  ~MotoServer();
  bool up() const { return up_; }
  std::string Output() const { return process_->Output(); }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& recording() const { return recording_; }
  // Makes "admin", allowed everything, and one user per entry of `spec` ([{"name", "policy",
  // "without"}], iam_users.py): {"<name>": {"id", "secret"}}, or null with the error (also
  // moto's not starting) in *error.
  nlohmann::json MakeUsers(const nlohmann::json& spec, std::string* error);
  // How many requests moto has refused with 403 so far.
  int Refusals() const;

 private:
  std::string endpoint_, recording_;
  std::unique_ptr<ChildProcess> process_;
  bool up_ = false;
};

}  // namespace di::testing
