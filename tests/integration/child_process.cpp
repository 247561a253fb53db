#include "child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "stack_env.h"

namespace di::testing {

namespace fs = std::filesystem;

ChildProcess::ChildProcess(const std::string& command)
    : log_(fs::temp_directory_path() / UniqueName("di-child-out")) {
  const std::string cmd = "exec > " + log_.string() + " 2>&1; " + command;
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    execl("/bin/bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  Stop();
  fs::remove(log_);
}

int ChildProcess::Stop() {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, SIGTERM);
  const int rc = Wait(std::chrono::seconds(120));
  if (pid_ <= 0) return rc;
  kill(-pid_, SIGKILL);  // its whole group: it ignored SIGTERM
  return Wait();
}

int ChildProcess::Wait(std::chrono::seconds limit) {
  if (pid_ <= 0) return exit_code_;
  const bool ended = WaitUntil([&] { return !Running(); }, [] { return true; }, limit);
  return ended ? exit_code_ : -1;
}

void ChildProcess::Signal(int signal) {
  if (pid_ > 0) kill(-pid_, signal);
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t got = waitpid(pid_, &status, WNOHANG);
  if (got == 0) return true;
  pid_ = -1;  // ended, and now reaped: how it ended is kept for Stop and Wait
  if (got > 0) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

bool WaitUntil(const std::function<bool()>& done, const std::function<bool()>& alive,
               std::chrono::seconds limit) {
  for (auto until = std::chrono::steady_clock::now() + limit;
       std::chrono::steady_clock::now() < until;) {
    if (done()) return true;
    if (!alive()) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

std::string ChildProcess::Output() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ApiProcess::ApiProcess(const std::string& env, int port)
    : process_(env + "exec " + DI_BINARY + " --mode api --port " + std::to_string(port)) {
  httplib::Client c("127.0.0.1", port);
  up_ = WaitUntil(
      [&] {
        auto r = c.Get("/openapi.json");
        return r && r->status == 200;
      },
      [&] { return process_.Running(); });
}

nlohmann::json WaitForJob(httplib::Client& c, const std::string& id,
                          const httplib::Headers& headers) {
  nlohmann::json job;
  const bool ended = WaitUntil(
      [&] {
        auto r = c.Get(("/jobs/" + id).c_str(), headers);
        job = r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
        return job.is_object() && job["state"] != "queued" && job["state"] != "running";
      },
      [] { return true; }, std::chrono::seconds(300));
  return ended ? job : nlohmann::json();
}

}  // namespace di::testing
