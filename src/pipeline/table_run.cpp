#include "pipeline/table_run.h"

#include <algorithm>
#include <deque>

#include "pipeline/backup.h"
#include "pipeline/state.h"

namespace di {
namespace {

// The read of a table in phases (table_run.h): (starts[0], starts[1]], ..., (starts[n], end).
// When phase k has ended, ends[k] holds the sequence of its last batch (UINT64_MAX before).
class PhasedReader : public ChangeReader {
 public:
  PhasedReader(Source& source, const TableInfo& table, ReadOptions base,
               std::vector<std::optional<Position>> starts, bool cells,
               const std::optional<Position>& high_water, ReconnectPolicy reconnect)
      : source_(source),
        table_(table),
        base_(std::move(base)),
        reconnect_(std::move(reconnect)),
        starts_(std::move(starts)),
        cells_(cells),
        high_(table) {
    high_.Seed(high_water);
    for (size_t k = 0; k < starts_.size(); ++k) ends_.emplace_back(UINT64_MAX);
  }

  Result<bool> Next(ChangeBatch* batch) override {
    while (true) {
      if (!rows_) RETURN_IF_ERROR(OpenPhase());
      ASSIGN_OR_RETURN(bool more, rows_->Next(batch));
      if (more) {
        ++batches_;
        high_.AddBatch(*batch);
        batch->high_water = high_.value();
        return true;
      }
      ends_[phase_].store(batches_);
      if (phase_ + 1 == starts_.size()) return false;
      // Kept: the batches it gave, still queued for the sinks, hold its cell decoder (and
      // on PostgreSQL the next phase reads in its transaction, the same snapshot).
      done_.push_back(std::move(rows_));
      ++phase_;
    }
  }
  // The sequence phase k ended at (UINT64_MAX while it is read).
  const std::atomic<uint64_t>& end_of(size_t k) const { return ends_[k]; }
  const std::optional<Position>& high_water() const { return high_.value(); }

 private:
  Status OpenPhase() {
    ReadOptions o = base_;
    o.after = starts_[phase_];
    o.until.reset();
    if (phase_ + 1 < starts_.size()) o.until = starts_[phase_ + 1];
    ASSIGN_OR_RETURN(std::unique_ptr<RowReader> rows, ResumingRead(source_, table_, o, reconnect_));
    rows_ = std::make_unique<SnapshotChangeReader>(std::move(rows), cells_);
    return Status::Ok();
  }

  Source& source_;
  const TableInfo& table_;
  const ReadOptions base_;
  const ReconnectPolicy reconnect_;
  const std::vector<std::optional<Position>> starts_;
  const bool cells_;
  HighWater high_;
  std::deque<std::atomic<uint64_t>> ends_;
  std::unique_ptr<SnapshotChangeReader> rows_;
  std::vector<std::unique_ptr<SnapshotChangeReader>> done_;  // the phases read
  size_t phase_ = 0;
  uint64_t batches_ = 0;
};

// A sink that joins a phased read late: the batches up to `joins_after` (the end of the
// phase before its own) it had made durable in the stopped run, and they are passed over.
// Its progress is its own from the first batch it writes (until then it reports none: the
// batches passed over are behind the place it resumed from); once finished, the batches it
// passed over count as durable too.
class LateSink : public Sink {
 public:
  LateSink(Sink& inner, const std::atomic<uint64_t>& joins_after)
      : inner_(inner), joins_after_(joins_after) {}
  std::string name() const override { return inner_.name(); }
  Status Open(const TableInfo& t, const LogPosition& p) override { return inner_.Open(t, p); }
  Status Write(const ChangeBatch& batch) override {
    last_ = batch.sequence;
    if (batch.sequence <= joins_after_.load()) return Status::Ok();
    return inner_.Write(batch);
  }
  uint64_t Durable() const override {
    return finished_ ? std::max(inner_.Durable(), last_) : inner_.Durable();
  }
  Status Finish() override {
    RETURN_IF_ERROR(inner_.Finish());
    finished_ = true;
    return Status::Ok();
  }
  nlohmann::json Checkpoint() const override { return inner_.Checkpoint(); }
  bool TakesCells() const override { return inner_.TakesCells(); }

 private:
  Sink& inner_;
  const std::atomic<uint64_t>& joins_after_;
  uint64_t last_ = 0;
  bool finished_ = false;
};

// A sink a sync's read reaches before its start: the batches that end at or before `start`
// it had, and they are passed over (counted durable); it writes from the first batch that
// goes past it.
class AheadSink : public Sink {
 public:
  AheadSink(Sink& inner, Position start) : inner_(inner), start_(std::move(start)) {}
  std::string name() const override { return inner_.name(); }
  Status Open(const TableInfo& t, const LogPosition& p) override { return inner_.Open(t, p); }
  Status Write(const ChangeBatch& batch) override {
    if (passing_ && (!batch.last || ComparePositions(*batch.last, start_) > 0)) passing_ = false;
    if (!passing_) return inner_.Write(batch);
    passed_ = batch.sequence;
    return Status::Ok();
  }
  uint64_t Durable() const override { return std::max(passed_, inner_.Durable()); }
  Status Finish() override { return inner_.Finish(); }
  nlohmann::json Checkpoint() const override { return inner_.Checkpoint(); }
  bool TakesCells() const override { return inner_.TakesCells(); }

 private:
  Sink& inner_;
  const Position start_;
  bool passing_ = true;
  uint64_t passed_ = 0;
};

// Whether every sink takes batches as cells (else the read gives Values).
bool AllTakeCells(const std::vector<SinkStart>& sinks) {
  for (const auto& s : sinks)
    if (!s.sink->TakesCells()) return false;
  return true;
}

nlohmann::json OptionalPosition(const std::optional<Position>& p) {
  return p ? nlohmann::json(EncodePosition(*p)) : nlohmann::json(nullptr);
}

std::optional<Position> PositionFrom(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  auto p = DecodePosition(j.get<std::string>());
  return p.ok() ? std::optional<Position>(*p) : std::nullopt;
}

}  // namespace

nlohmann::json SinkStartJson(const SinkStart& start, const nlohmann::json& checkpoint) {
  return {{"after", OptionalPosition(start.after)},
          {"offset", start.offset},
          {"high_water", OptionalPosition(start.high_water)},
          {"checkpoint", checkpoint}};
}

SinkStart SinkStartFrom(Sink* sink, const nlohmann::json& record) {
  SinkStart s;
  s.sink = sink;
  if (!record.is_object()) return s;
  s.after = PositionFrom(record.value("after", nlohmann::json()));
  if (!s.after) return s;  // from the start
  s.offset = record.value("offset", int64_t{0});
  s.high_water = PositionFrom(record.value("high_water", nlohmann::json()));
  return s;
}

TableReadOutcome ReadIntoSinks(Source& source, const TableInfo& table,
                               const std::vector<SinkStart>& sinks,
                               const TableReadOptions& options) {
  // The sinks by where they start, the one furthest behind first; one phase per place.
  std::vector<int64_t> offset(sinks.size(), 0);  // -1: from the start
  for (size_t i = 0; i < sinks.size(); ++i)
    offset[i] = options.by_key && sinks[i].after ? sinks[i].offset : -1;
  std::vector<size_t> order(sinks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return offset[a] < offset[b]; });
  std::vector<std::optional<Position>> starts;
  std::vector<size_t> phase_of(sinks.size(), 0);
  for (size_t n = 0; n < order.size(); ++n) {
    const size_t i = order[n];
    if (n == 0 || offset[i] != offset[order[n - 1]])
      starts.push_back(offset[i] < 0 ? std::nullopt : sinks[i].after);
    phase_of[i] = starts.size() - 1;
  }
  if (starts.empty()) starts.push_back(std::nullopt);
  const bool placed = !order.empty() && offset[order[0]] >= 0;
  const int64_t base = placed ? offset[order[0]] : 0;
  const std::optional<Position> seed = placed ? sinks[order[0]].high_water : std::nullopt;

  ReadOptions read;
  read.batch_size = options.batch_size;
  read.by_key = options.by_key;
  PhasedReader reader(source, table, read, starts, AllTakeCells(sinks), seed, options.reconnect);
  std::vector<std::unique_ptr<LateSink>> late;
  std::vector<Sink*> lanes;
  for (size_t i = 0; i < sinks.size(); ++i) {
    if (phase_of[i] == 0) {
      lanes.push_back(sinks[i].sink);
      continue;
    }
    late.push_back(std::make_unique<LateSink>(*sinks[i].sink, reader.end_of(phase_of[i] - 1)));
    lanes.push_back(late.back().get());
  }

  std::vector<SinkStart> at = sinks;
  for (size_t i = 0; i < at.size(); ++i)
    if (offset[i] < 0) at[i] = SinkStart{sinks[i].sink, std::nullopt, 0, std::nullopt};
  std::vector<nlohmann::json> checkpoints;
  for (const auto& s : sinks) checkpoints.push_back(s.sink->Checkpoint());
  FanOutOptions fan;
  fan.stop = options.stop;
  int64_t read_rows = 0;
  fan.on_batch = [&](size_t rows) {
    read_rows += static_cast<int64_t>(rows);
    if (options.on_progress) options.on_progress(base + read_rows);
  };
  fan.progress = [&](const std::vector<SinkProgress>& p, bool ended) -> Status {
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].mark) continue;
      at[i].after = p[i].mark->last;
      at[i].offset = base + static_cast<int64_t>(p[i].mark->rows);
      at[i].high_water = p[i].mark->high_water;
      checkpoints[i] = p[i].checkpoint;
    }
    return options.checkpoint ? options.checkpoint(at, checkpoints, ended) : Status::Ok();
  };
  TableReadOutcome out;
  out.fan = RunFanOut(reader, table, options.snapshot, lanes, fan);
  if (out.fan.read_status.ok() && !out.fan.stopped) out.high_water = reader.high_water();
  return out;
}

int ComparePositions(const Position& a, const Position& b) {
  int c = CompareValues(a.cursor, b.cursor);
  for (size_t i = 0; c == 0 && i < a.key.size() && i < b.key.size(); ++i)
    c = CompareValues(a.key[i], b.key[i]);
  return c;
}

TableReadOutcome SyncIntoSinks(Source& source, const TableInfo& table,
                               const std::vector<SinkStart>& sinks,
                               const TableReadOptions& options) {
  // The read starts after the earliest start; an unset one is the table's beginning.
  std::optional<Position> from;
  bool all = sinks.empty();
  for (const auto& s : sinks) {
    if (!s.after) all = true;
    if (s.after && (!from || ComparePositions(*s.after, *from) < 0)) from = s.after;
  }
  if (all) from.reset();
  ReadOptions read;
  read.batch_size = options.batch_size;
  read.incremental = true;
  PhasedReader reader(source, table, read, {from}, AllTakeCells(sinks), std::nullopt,
                      options.reconnect);
  std::vector<std::unique_ptr<AheadSink>> ahead;
  std::vector<Sink*> lanes;
  for (const auto& s : sinks) {
    const bool behind = !s.after || (from && ComparePositions(*s.after, *from) == 0);
    if (behind) {
      lanes.push_back(s.sink);
      continue;
    }
    ahead.push_back(std::make_unique<AheadSink>(*s.sink, *s.after));
    lanes.push_back(ahead.back().get());
  }
  std::vector<SinkStart> at = sinks;
  std::vector<nlohmann::json> checkpoints(sinks.size());
  FanOutOptions fan;
  fan.stop = options.stop;
  int64_t read_rows = 0;
  fan.on_batch = [&](size_t rows) {
    read_rows += static_cast<int64_t>(rows);
    if (options.on_progress) options.on_progress(read_rows);
  };
  fan.progress = [&](const std::vector<SinkProgress>& p, bool ended) -> Status {
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].mark || !p[i].mark->last) continue;
      if (at[i].after && ComparePositions(*p[i].mark->last, *at[i].after) <= 0) continue;
      at[i].after = p[i].mark->last;
      at[i].offset = static_cast<int64_t>(p[i].mark->rows);
      at[i].high_water = p[i].mark->high_water;
      checkpoints[i] = p[i].checkpoint;
    }
    return options.checkpoint ? options.checkpoint(at, checkpoints, ended) : Status::Ok();
  };
  TableReadOutcome out;
  out.fan = RunFanOut(reader, table, LogPosition(), lanes, fan);
  if (out.fan.read_status.ok() && !out.fan.stopped) out.high_water = reader.high_water();
  return out;
}

}  // namespace di
