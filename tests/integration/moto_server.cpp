#include "moto_server.h"

#include <cstdio>
#include <fstream>

#include "stack_env.h"

namespace di::testing {

MotoServer::MotoServer() : recording_("/tmp/" + UniqueName("di-moto-recording") + ".jsonl") {
  const int port = FreeLoopbackPort();
  endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  process_ = std::make_unique<ChildProcess>(
      "export INITIAL_NO_AUTH_ACTION_COUNT=3 MOTO_ENABLE_RECORDING=1 MOTO_RECORDER_FILEPATH=" +
      recording_ + " && exec " + DI_SOURCE_DIR + "/.venv/bin/moto_server -H 127.0.0.1 -p " +
      std::to_string(port));
  std::string out;
  up_ = WaitUntil(
      [&] {
        return RunCommand("curl -sf -o /dev/null " + endpoint_ + "/moto-api/data.json", &out) == 0;
      },
      [&] { return process_->Running(); });
}

MotoServer::~MotoServer() {
  process_->Stop();
  std::remove(recording_.c_str());
}

nlohmann::json MotoServer::MakeUsers(const nlohmann::json& spec, std::string* error) {
  if (!up_) {
    *error = "moto did not start: " + Output();
    return nullptr;
  }
  const std::string file = "/tmp/" + UniqueName("di-iam-spec") + ".json";
  std::ofstream(file) << spec.dump();
  std::string out;
  int rc = RunCommand(VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/iam_users.py " +
                          endpoint_ + " < " + file,
                      &out);
  std::remove(file.c_str());
  // The keys are its last line (Python may have warned before).
  const size_t last = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
  auto keys =
      nlohmann::json::parse(last == std::string::npos ? out : out.substr(last + 1), nullptr, false);
  if (rc == 0 && keys.is_object()) return keys;
  *error = out;
  return nullptr;
}

int MotoServer::Refusals() const {
  const std::string log = process_->Output();
  int n = 0;
  for (size_t at = log.find("\" 403 "); at != std::string::npos; at = log.find("\" 403 ", at + 1))
    ++n;
  return n;
}

}  // namespace di::testing
