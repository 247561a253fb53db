// Processes a test runs in the background: a shell command (the binary in --mode stream,
// api or scheduler; a moto server) with its stdout and stderr in a file of its own, ended
// with SIGTERM (and reaped) by Stop() or when destroyed; and the binary in --mode api,
// waited for until it answers. Every wait ends at a defined point (an answer, the process's
// end); its limit only keeps a hung process from hanging the suite, and is far beyond what a
// slow machine needs. Not thread-safe: one test thread drives each.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
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

  // SIGTERM, then waits: its exit code, 128 + the signal when a signal ended it (the code it
  // ended with when it had ended already). One that has not ended within two minutes is
  // SIGKILLed.
  int Stop();
  // Waits for it to end by itself: its exit code as Stop's; -1 when it is still running after
  // `limit` (it is left running).
  int Wait(std::chrono::seconds limit = std::chrono::seconds(300));
  bool Running();
  // Sends `signal` to its process group (SIGSTOP and SIGCONT: freeze it at a chosen point).
  void Signal(int signal);
  std::string Output() const;  // stdout and stderr so far

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;  // once it ended
  std::filesystem::path log_;
};

// Calls `done` every 100 ms until it returns true (then true), `alive` returns false, or
// `limit` has passed (then `done`'s last answer).
bool WaitUntil(const std::function<bool()>& done, const std::function<bool()>& alive,
               std::chrono::seconds limit = std::chrono::seconds(120));

// The binary in --mode api on `port`, started from `env` (a shell prefix such as
// StackEnvShell()'s); up() once it answered GET /openapi.json (waited for until it answers or
// ends).
class ApiProcess {
 public:
  ApiProcess(const std::string& env, int port);
  bool up() const { return up_; }
  int Stop() { return process_.Stop(); }
  int Wait() { return process_.Wait(); }
  std::string Output() const { return process_.Output(); }

 private:
  ChildProcess process_;
  bool up_ = false;
};

// Polls GET /jobs/{id} until the job has ended: the job, or null when it has not within five
// minutes.
nlohmann::json WaitForJob(httplib::Client& c, const std::string& id,
                          const httplib::Headers& headers = {});

}  // namespace di::testing
