#include "api/stream_control.h"

#include "core/log.h"

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
  return {{"state", v.state},
          {"where", v.where},
          {"confirmed", v.confirmed},
          {"lag_bytes", v.lag_bytes},
          {"lag_seconds", v.lag_seconds},
          {"changes", v.changes},
          {"restarts", v.restarts},
          {"last_error", v.last_error},
          {"tables", tables}};
}

nlohmann::json StreamHealth(const StreamState::View& v, int max_lag_seconds) {
  if (v.state == "stopped" && v.changes == 0 && v.restarts == 0 && v.last_error.empty())
    return nullptr;
  const bool lagging = v.lag_seconds > max_lag_seconds;
  const bool up =
      (v.state == "running" || v.state == "starting" || v.state == "stopped") && !lagging;
  nlohmann::json h = {{"required", true},
                      {"status", up ? "up" : "down"},
                      {"state", v.state},
                      {"lag_seconds", v.lag_seconds},
                      {"lag_bytes", v.lag_bytes}};
  if (lagging)
    h["error"] = "lagging " + std::to_string(static_cast<int64_t>(v.lag_seconds)) +
                 " s behind the source (STREAM_MAX_LAG_SECONDS " + std::to_string(max_lag_seconds) +
                 ")";
  else if (!v.last_error.empty() && !up)
    h["error"] = Redact(v.last_error);
  return h;
}

void DescribeStreamMetrics(Metrics& m) {
  m.Describe("di_stream_up", "gauge", "1 while the change stream runs and applies changes.");
  m.Describe("di_stream_lag_seconds", "gauge",
             "Seconds between the last applied change's commit and its apply.");
  m.Describe("di_stream_lag_bytes", "gauge",
             "WAL bytes the source holds beyond the stream's confirmed place.");
  m.Describe("di_stream_restarts_total", "counter",
             "Times the stream reopened after a target or source failed.");
  m.Describe("di_stream_changes_total", "counter",
             "Changes applied to every target, per table and operation (rate(): changes/s).");
}

void StreamMetrics(const StreamState::View& v, Metrics& m) {
  m.Set("di_stream_up", {}, v.state == "running" ? 1 : 0);
  m.Set("di_stream_lag_seconds", {}, v.lag_seconds);
  m.Set("di_stream_lag_bytes", {}, static_cast<double>(v.lag_bytes));
  m.Set("di_stream_restarts_total", {}, static_cast<double>(v.restarts));
  for (const auto& [table, ops] : v.per_table)
    for (const auto& [op, n] : ops)
      m.Set("di_stream_changes_total", {{"table", table}, {"op", op}}, static_cast<double>(n));
}

}  // namespace di
