// FanOut: one read of a table feeding every sink of that table. The caller's thread reads
// change batches; each sink runs on its own thread behind a bounded queue of shared, const
// batches, so a slow sink slows the read (backpressure) and memory never grows past
// (queue_batches + 2) batches per sink. After every call into a sink the fan-out takes the
// lowest Durable() over all sinks; when it moves, `confirm` gets that batch's sequence and
// positions — the one place a pipeline checkpoints or confirms to the source.
//
// A sink that fails is called no more and holds the confirmed position where it was; the
// others go on to the end of the read. A reader that fails ends the read: every sink still
// gets Finish for what it was given, and nothing past the last durable batch is confirmed.
// Run is called once; FanOut is not thread-safe itself (its threads are its own).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/change.h"
#include "sinks/sink.h"

namespace di {

// Where a batch ends: what a checkpoint after it records.
struct BatchMark {
  uint64_t sequence = 0;
  std::optional<Position> last;        // a resumed read starts after it
  std::optional<Position> high_water;  // the greatest (cursor, key) read up to it
  LogPosition log;
};

struct FanOutOptions {
  size_t queue_batches = 2;  // per sink, batches waiting beyond the one it is writing
  // Set: the read stops before its next batch (what was read is still written and
  // finished); the outcome says it stopped.
  const std::atomic<bool>* stop = nullptr;
  // Every sink has made the batches up to `mark.sequence` durable; `mark` is that batch's.
  // An error stops the read like a reader's error.
  std::function<Status(const BatchMark& mark)> confirm;
  // After each batch read: its rows.
  std::function<void(size_t rows)> on_batch;
};

struct SinkOutcome {
  std::string name;
  uint64_t batches = 0;  // written
  uint64_t durable = 0;  // the sink's Durable() at the end
  Status status;         // its first error
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
