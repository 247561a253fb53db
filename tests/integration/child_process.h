// Processes a test runs in the background: a shell command (the binary in --mode stream,
// api or scheduler; a moto server) with its stdout and stderr in a file of its own, ended
// with SIGTERM (and reaped) by Stop() or when destroyed; and the binary in --mode api,
// waited for until it answers. Not thread-safe: one test thread drives each.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace di::testing {

class ChildProcess {
 public:
  // Runs `command` with bash -c in a process group of its own (put `exec` before the last
  // command so that SIGTERM reaches it, not the shell).
  explicit ChildProcess(const std::string& command);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM, then waits: its exit code, 128 + the signal when a signal ended it; -1 when
  // already stopped.
  int Stop();
  bool Running();
  std::string Output() const;  // stdout and stderr so far

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// The binary in --mode api on `port`, started from `env` (a shell prefix such as
// StackEnvShell()'s); up() once it answered GET /openapi.json (within 10 s).
class ApiProcess {
 public:
  ApiProcess(const std::string& env, int port);
  bool up() const { return up_; }
  int Stop() { return process_.Stop(); }
  std::string Output() const { return process_.Output(); }

 private:
  ChildProcess process_;
  bool up_ = false;
};

// Polls GET /jobs/{id} until the job has ended: the job, or null when it has not within two
// minutes.
nlohmann::json WaitForJob(httplib::Client& c, const std::string& id,
                          const httplib::Headers& headers = {});

}  // namespace di::testing
