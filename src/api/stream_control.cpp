#include "api/stream_control.h"

namespace di {

StreamControl::StreamControl(const RunWorld& world, const std::vector<TableMapping>& mapping,
                             std::function<void(const std::string&)> log)
    : world_(world), mapping_(mapping), log_(std::move(log)) {}

StreamControl::~StreamControl() {
  Stop();
}

Status StreamControl::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_.load()) return AlreadyExists("the stream is running already (POST /stream/stop)");
  if (thread_.joinable()) thread_.join();  // one that ended by itself
  stop_.store(false);
  running_.store(true);
  thread_ = std::thread([this] {
    StreamOptions o;
    o.stop = &stop_;
    o.state = &state_;
    Status s = RunStream(world_, mapping_, o, log_);
    if (!s.ok()) {
      state_.Update([&](StreamState::View& v) {
        v.state = "failed";
        v.last_error = s.message();
      });
      log_("stream failed: " + s.message());
    }
    running_.store(false);
  });
  return Status::Ok();
}

bool StreamControl::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  const bool was = running_.load();
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return was;
}

nlohmann::json StreamControl::Describe() const {
  const StreamState::View v = state_.Get();
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& [table, ops] : v.per_table) tables[table] = ops;
  return {{"state", v.state},         {"where", v.where},
          {"confirmed", v.confirmed}, {"lag_bytes", v.lag_bytes},
          {"lag_seconds", v.lag_seconds}, {"changes", v.changes},
          {"restarts", v.restarts},   {"last_error", v.last_error},
          {"tables", tables}};
}

}  // namespace di
