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
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool ChildProcess::Running() {
  return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
}

std::string ChildProcess::Output() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ApiProcess::ApiProcess(const std::string& env, int port)
    : process_(env + "exec " + DI_BINARY + " --mode api --port " + std::to_string(port)) {
  httplib::Client c("127.0.0.1", port);
  for (int i = 0; i < 100 && !up_; ++i) {
    if (auto r = c.Get("/openapi.json"); r && r->status == 200) up_ = true;
    if (!up_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

nlohmann::json WaitForJob(httplib::Client& c, const std::string& id,
                          const httplib::Headers& headers) {
  for (int i = 0; i < 600; ++i) {
    auto r = c.Get(("/jobs/" + id).c_str(), headers);
    auto j = r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
    if (j.is_object() && j["state"] != "queued" && j["state"] != "running") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return nlohmann::json();
}

}  // namespace di::testing
