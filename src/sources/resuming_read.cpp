// ResumingRead (sources/resuming_read.h): the reader in use, replaced by a new one opened
// after the last row given whenever the source's connection drops.
#include "sources/resuming_read.h"

#include <algorithm>
#include <vector>

#include "core/clock.h"

namespace di {
namespace {

class ResumingReader : public RowReader {
 public:
  ResumingReader(Source& source, const TableInfo& table, const ReadOptions& options,
                 const ReconnectPolicy& policy, std::unique_ptr<RowReader> first)
      : source_(source),
        table_(table),
        options_(options),
        policy_(policy),
        cells_(first->CanReadCells()),
        reader_(std::move(first)) {
    if (!options_.ordered() && !table_.primary_key.empty()) {
      ReadOptions by_key = options_;
      by_key.by_key = true;
      key_columns_ = OrderColumns(table_, by_key);
    }
  }
  Result<bool> Next(RecordBatch* batch) override { return Step(batch); }
  bool CanReadCells() const override { return cells_; }
  Result<bool> NextCells(CellBatch* batch) override { return Step(batch); }

 private:
  Result<bool> Read(RecordBatch* batch) { return reader_->Next(batch); }
  Result<bool> Read(CellBatch* batch) { return reader_->NextCells(batch); }

  template <typename Batch>
  Result<bool> Step(Batch* batch) {
    while (true) {
      Result<bool> more = Read(batch);
      if (more.ok()) {
        if (*more) Delivered(*batch);
        return more;
      }
      RETURN_IF_ERROR(Recover(more.status()));
    }
  }

  // Where a read opened now carries on: the batch's own position (ordered reads), else its
  // last row's key (a full read, in key order).
  void Delivered(const RecordBatch& batch) {
    failures_ = 0;
    rows_ += batch.rows.size();
    if (batch.last) {
      last_ = batch.last;
    } else if (table_.engine == Engine::kMongo) {
      if (batch.rows.empty() || batch.rows.back().empty()) return;
      if (batch.rows.back()[0].kind() != ValueKind::kDocument) return;
      const Value* id = batch.rows.back()[0].as<Document>().Find("_id");
      if (id) last_ = Position{Null{}, {*id}};
    } else if (!key_columns_.empty() && !batch.rows.empty()) {
      last_ = PositionIn(batch.rows.back(), key_columns_, /*by_key=*/true);
    }
  }
  void Delivered(const CellBatch& batch) {
    failures_ = 0;
    const size_t rows = batch.rows();
    rows_ += rows;
    if (batch.last) {
      last_ = batch.last;
    } else if (!key_columns_.empty() && rows > 0) {
      std::vector<Value> row(batch.columns());
      for (size_t i : key_columns_) row[i] = batch.value(rows - 1, i);
      last_ = PositionIn(row, key_columns_, /*by_key=*/true);
    }
  }

  bool Resumable() const {
    return options_.ordered() || table_.engine == Engine::kMongo || !key_columns_.empty();
  }

  // After a failed batch: reconnects and opens the read again after the last row given, or
  // answers why it cannot (the failure kept, what was tried added).
  Status Recover(const Status& failure) {
    if (!source_.ConnectionLost()) return failure;
    const std::string what = "table '" + table_.name + "'";
    if (!Resumable())
      return Status(failure.code(),
                    failure.message() + " (" + what +
                        " has no primary key, so its read cannot carry on from where the "
                        "connection dropped: run again)");
    Status last = failure;
    while (true) {
      if (failures_ >= policy_.max_retries)
        return Status(last.code(), last.message() + " (the connection was lost reading " + what +
                                       "; " + std::to_string(failures_) +
                                       " reconnects failed, MAX_RETRIES=" +
                                       std::to_string(policy_.max_retries) + ")");
      ++failures_;
      const auto wait = std::min<std::chrono::milliseconds>(
          policy_.delay * (int64_t{1} << std::min(failures_ - 1, 16)), std::chrono::seconds(60));
      Say("connection lost reading " + what + " after " + std::to_string(rows_) + " rows (" +
          last.message() + "); reconnecting in " + Seconds(wait) + " (attempt " +
          std::to_string(failures_) + " of " + std::to_string(policy_.max_retries) + ")");
      RETURN_IF_ERROR(Wait(wait));
      if (reader_) retired_.push_back(std::move(reader_));
      std::string note;
      last = source_.Reconnect(&note);
      if (!last.ok()) continue;
      if (!note.empty()) {
        Say(note);
        if (policy_.on_snapshot_lost) policy_.on_snapshot_lost();
      }
      auto opened = source_.Read(table_, Resumed());
      if (!opened.ok()) {
        if (!source_.ConnectionLost()) return opened.status();
        last = opened.status();
        continue;
      }
      reader_ = std::move(*opened);
      Say("reconnected: " + what + " carries on after its first " + std::to_string(rows_) +
          " rows");
      return Status::Ok();
    }
  }

  // The read's options from after the last row given.
  ReadOptions Resumed() const {
    ReadOptions o = options_;
    if (!last_) return o;  // nothing given yet: the read from its start
    if (!o.ordered()) o.by_key = true;
    o.after = last_;
    return o;
  }

  Status Wait(std::chrono::milliseconds wait) const {
    if (!SleepUnless(SystemClock(), wait, [this] { return policy_.stop && policy_.stop->load(); }))
      return Aborted("stopped while reconnecting to read table '" + table_.name + "'");
    return Status::Ok();
  }

  static std::string Seconds(std::chrono::milliseconds d) {
    const auto ms = d.count();
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
  }
  void Say(const std::string& line) const {
    if (policy_.say) policy_.say(line);
  }

  Source& source_;
  const TableInfo table_;
  const ReadOptions options_;
  const ReconnectPolicy policy_;
  const bool cells_;
  std::vector<size_t> key_columns_;  // a full read's primary key columns (its order)
  std::unique_ptr<RowReader> reader_;
  std::vector<std::unique_ptr<RowReader>> retired_;  // failed readers: their batches' decoders
  std::optional<Position> last_;                     // of the last row given
  uint64_t rows_ = 0;
  int failures_ = 0;  // reconnects since the last batch read
};

}  // namespace

Result<std::unique_ptr<RowReader>> ResumingRead(Source& source, const TableInfo& table,
                                                const ReadOptions& options,
                                                const ReconnectPolicy& policy) {
  ASSIGN_OR_RETURN(std::unique_ptr<RowReader> first, source.Read(table, options));
  if (policy.max_retries <= 0) return first;
  return std::unique_ptr<RowReader>(
      new ResumingReader(source, table, options, policy, std::move(first)));
}

}  // namespace di
