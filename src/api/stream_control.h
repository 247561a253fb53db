// StreamControl: the change stream (pipeline/stream.h) run inside the service — started and
// stopped by the API (`POST /stream/start`, `POST /stream/stop`, `--mode api --with-stream`),
// its state read by `GET /stream`, `/metrics` and `/health`. One stream at a time, on a thread
// of its own; it restarts itself after target outages (RunStream's pauses) and ends on Stop
// or on an error no retry can mend (its message kept for GET /stream). Thread-safe; the
// destructor stops the stream and waits for it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/metrics.h"
#include "pipeline/mapping.h"
#include "pipeline/stream.h"
#include "pipeline/world.h"

namespace di {

class StreamControl {
 public:
  // `world` and `mapping` outlive the control. `log` receives the stream's lines.
  StreamControl(const RunWorld& world, const std::vector<TableMapping>& mapping,
                std::function<void(const std::string&)> log);
  ~StreamControl();
  StreamControl(const StreamControl&) = delete;
  StreamControl& operator=(const StreamControl&) = delete;

  // Starts the stream; AlreadyExists when it runs.
  Status Start();
  // Stops it after the batch in hand (everything applied confirmed) and waits; false when it
  // was not running.
  bool Stop();
  bool running() const { return running_.load(); }
  // {"state", "where", "confirmed", "lag_bytes", "lag_seconds", "changes", "restarts",
  //  "last_error", "tables": {"postgresql.users": {"insert": n, ...}}}
  nlohmann::json Describe() const;
  StreamState::View View() const { return state_.Get(); }

 private:
  const RunWorld& world_;
  const std::vector<TableMapping>& mapping_;
  std::function<void(const std::string&)> log_;
  StreamState state_;
  std::mutex mu_;  // Start and Stop
  std::thread thread_;
  std::atomic<bool> stop_{false}, running_{false};
};

// The stream's entry of GET /health: null when it has never run; else {"status": "up" |
// "down", "state", "lag_seconds", "lag_bytes", "required": true, "error"?}, down when it
// failed, is paused, or lags more than `max_lag_seconds`.
nlohmann::json StreamHealth(const StreamState::View& v, int max_lag_seconds);
// The stream's metrics: di_stream_lag_seconds, di_stream_lag_bytes, di_stream_up,
// di_stream_restarts_total, di_stream_changes_total{table, op} (rate() gives changes/s).
void DescribeStreamMetrics(Metrics& m);
void StreamMetrics(const StreamState::View& v, Metrics& m);

}  // namespace di
