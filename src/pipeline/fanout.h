// FanOut: one read of a table feeding every sink of that table. The caller's thread reads
// change batches; each sink runs on its own thread behind a bounded queue of shared, const
// batches, so a slow sink slows the read (backpressure) and memory never grows past
// (queue_batches + 2) batches per sink. After every call into a sink the fan-out takes the
// lowest Durable() over all sinks; when it moves, `confirm` gets that batch's sequence and
// positions — the one place a pipeline checkpoints or confirms to the source.
//
// A sink that fails is called no more and holds the confirmed position where it was; the
// others go on to the end of the read. A reader that fails (or a stop) ends the read: the
// sinks write what they were given but get no Finish (a half-read snapshot must not look
// whole: no manifest, no committed load), and nothing past the last durable batch is
// confirmed. Each sink's own progress is reported too (`progress`), so a resumed run can
// carry each one on from where it got to.
// Run is called once; FanOut is not thread-safe itself (its threads are its own).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/change.h"
#include "sinks/sink.h"

namespace di {

// Where a batch ends: what a checkpoint after it records.
struct BatchMark {
  uint64_t sequence = 0;
  uint64_t rows = 0;                   // rows read up to the end of this batch
  std::optional<Position> last;        // a resumed read starts after it
  std::optional<Position> high_water;  // the greatest (cursor, key) read up to it
  LogPosition log;
};

// Where each sink has got to: its last durable batch's mark (unset: none yet) and its
// Sink::Checkpoint() as of then.
struct SinkProgress {
  std::optional<BatchMark> mark;
  nlohmann::json checkpoint;
};

struct FanOutOptions {
  size_t queue_batches = 2;  // per sink, batches waiting beyond the one it is writing
  // Set: the read stops before its next batch (what was read is still written and
  // finished); the outcome says it stopped.
  const std::atomic<bool>* stop = nullptr;
  // Every sink has made the batches up to `mark.sequence` durable; `mark` is that batch's.
  // An error stops the read like a reader's error.
  std::function<Status(const BatchMark& mark)> confirm;
  // Whenever some sink's Durable() moved: every sink's progress (in the order of `sinks`);
  // once more at the end, with `ended` (the sinks are joined; a read that ended whole has
  // had them finished). An error stops the read like a reader's error.
  std::function<Status(const std::vector<SinkProgress>& sinks, bool ended)> progress;
  // After each batch read: its rows.
  std::function<void(size_t rows)> on_batch;
};

struct SinkOutcome {
  std::string name;
  uint64_t batches = 0;       // written
  uint64_t durable = 0;       // the sink's Durable() at the end
  nlohmann::json checkpoint;  // its Checkpoint() then
  Status status;              // its first error
};

struct FanOutOutcome {
  uint64_t batches = 0;  // read
  uint64_t rows = 0;
  uint64_t confirmed = 0;  // the last sequence given to confirm
  bool stopped = false;    // ended by FanOutOptions::stop
  Status read_status;      // the reader's (or confirm's) error
  std::vector<SinkOutcome> sinks;
  // OK when the read ended, every sink finished and everything was confirmed.
  Status status() const;
};

FanOutOutcome RunFanOut(ChangeReader& reader, const TableInfo& table, const LogPosition& snapshot,
                        const std::vector<Sink*>& sinks, const FanOutOptions& options);

}  // namespace di
