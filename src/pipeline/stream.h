// `--mode stream`: change data capture (docs/architecture.md, "Change capture"). PostgreSQL's
// mapped tables (and the child tables their items embed) are followed through the
// replication slot `--mode setup --with-stream` made; every batch of changes is applied to
// every target — the S3 change log, the DynamoDB items, the warehouse — and only then is its
// place confirmed to the slot, so a crash at any moment loses nothing (the slot gives again
// everything after the last confirmed place, and the targets apply it idempotently).
//
// Each table starts where its last migrate's snapshot was read (the state table's snapshot
// record): the changes of transactions that committed before it are in that copy and are
// passed over. A table with no snapshot recorded gets its own first: a migrate of those
// tables (pipeline/run.h, reading inside a snapshot exported by a replication slot) before
// the stream opens. A table whose snapshot is older than the slot's confirmed place, and that
// no stream has followed since, is refused: the changes in between are lost to the slot.
//
// A target that fails (moto stopped, the warehouse down) pauses the stream: it retries with
// backoff (RETRY_DELAY, doubling, at most a minute) from the last confirmed place, the lag
// growing, until the target answers. RunStream is called from one thread; its StreamState
// may be read from any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/mapping.h"
#include "pipeline/world.h"

namespace di {

// What a running stream reports (GET /stream, /metrics, the progress log). Thread-safe.
class StreamState {
 public:
  struct View {
    std::string state = "stopped";  // starting | running | paused | stopped | failed
    std::string where;              // the slot and server
    std::string confirmed;          // the last place confirmed to the source
    int64_t lag_bytes = 0;          // the source's log beyond it
    double lag_seconds = 0;         // since the commit of the oldest change not yet applied
    int64_t changes = 0;            // applied since the start
    int64_t restarts = 0;           // times the stream was opened again after an error
    std::string last_error;
    // "<engine>.<table>" -> op -> changes applied
    std::map<std::string, std::map<std::string, int64_t>> per_table;
  };
  View Get() const;
  void Update(const std::function<void(View&)>& change);

 private:
  mutable std::mutex mu_;
  View view_;
};

struct StreamOptions {
  std::vector<std::string> tables;  // --table (empty: every mapped PostgreSQL table)
  const std::atomic<bool>* stop = nullptr;
  std::chrono::milliseconds wait{200};  // the longest a batch waits for changes
  StreamState* state = nullptr;         // optional: kept up to date
  // Stop (OK) once every change committed before the stream opened is applied and confirmed.
  bool catch_up = false;
  // Test hook (the crash tests): called after each sink applied a batch with changes (its
  // name: "changelog", "dynamodb", "warehouse") and after the batch's place was confirmed
  // ("confirmed"), with the count of such batches since the start (1, 2...).
  std::function<void(const std::string& point, int64_t batch)> after;
};

// Runs until `stop` is set or, with catch_up, the stream has caught up (then returns OK,
// everything applied confirmed), or a problem no retry can mend (no slot, a table without a
// snapshot, the mapping): its error names the fix.
Status RunStream(const RunWorld& world, const std::vector<TableMapping>& mapping,
                 const StreamOptions& options, const std::function<void(const std::string&)>& log);

}  // namespace di
