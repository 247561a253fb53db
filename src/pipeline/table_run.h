// One table of a run, read once and fanned out to every sink of the table (pipeline/fanout.h),
// each sink carried on from its own checkpoint.
//
// A fresh run is one read in primary-key order (one snapshot, where the engine gives one).
// A resumed run's sinks may have stopped at different places (DynamoDB is durable a batch at
// a time, a backup a part at a time, the warehouse only at its end): the read starts after
// the sink furthest behind and goes on in phases, (p0, p1], (p1, p2]..., (pn, end), the
// database itself bounding each range; a sink joins at the phase that starts at its own
// checkpoint, so no target rewrites what it had made durable and none misses a row. A table
// without a primary key has no positions: it is read in one pass and every sink starts again.
//
// Not thread-safe: one call per table, on the caller's thread (the fan-out has its own).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/fanout.h"
#include "sources/resuming_read.h"
#include "sources/source.h"

namespace di {

// Where one sink carries on from: after `after` (unset: from the start of the table),
// `offset` rows into it, with the read's high water as it was there.
struct SinkStart {
  Sink* sink = nullptr;
  std::optional<Position> after = std::nullopt;
  int64_t offset = 0;
  std::optional<Position> high_water = std::nullopt;
};

// A sink's place as a checkpoint records it, and back.
nlohmann::json SinkStartJson(const SinkStart& start, const nlohmann::json& checkpoint);
// `record` as SinkStartJson wrote it (the sink's own checkpoint is record["checkpoint"]);
// an unreadable one starts the sink from the beginning.
SinkStart SinkStartFrom(Sink* sink, const nlohmann::json& record);

struct TableReadOptions {
  size_t batch_size = 1000;
  bool by_key = true;  // false: one unordered pass (a table without a primary key)
  const std::atomic<bool>* stop = nullptr;
  LogPosition snapshot;  // the read's place in the source's change log, for the sinks' Open
  // Whenever some sink made more durable: where each sink (in the order given) carries on
  // from now, with its own checkpoint; `ended`: the last call, after the sinks are done.
  // An error stops the read.
  using Checkpoint = std::function<Status(const std::vector<SinkStart>& at,
                                          const std::vector<nlohmann::json>&, bool ended)>;
  Checkpoint checkpoint;
  std::function<void(int64_t rows)> on_progress;  // rows of the table read so far
  // A dropped source connection: reconnected and the read carried on after the last row read
  // (sources/resuming_read.h).
  ReconnectPolicy reconnect;
};

struct TableReadOutcome {
  FanOutOutcome fan;                   // per sink, in the order given
  std::optional<Position> high_water;  // of the whole table (when the read ended)
  Status status() const { return fan.status(); }
};

TableReadOutcome ReadIntoSinks(Source& source, const TableInfo& table,
                               const std::vector<SinkStart>& sinks,
                               const TableReadOptions& options);

// A sync's read: the rows changed after the earliest sink's start (`after`; unset: every
// row), in (cursor, key) order, in one pass fanned out to every sink. A sink that starts
// further on passes over the batches that end at or before its own start and writes from
// the batch that goes past it, whole: at most a batch of rows it already had, upserted again
// (sync's sinks are idempotent upserts). A checkpoint never moves a sink back before its start
// (SinkStart::offset counts the rows of this read).
TableReadOutcome SyncIntoSinks(Source& source, const TableInfo& table,
                               const std::vector<SinkStart>& sinks,
                               const TableReadOptions& options);

// <0, 0, >0 as `a` is before, at or after `b` in (cursor, key) order.
int ComparePositions(const Position& a, const Position& b);

}  // namespace di
