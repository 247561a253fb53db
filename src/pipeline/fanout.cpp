#include "pipeline/fanout.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace di {
namespace {

using BatchPtr = std::shared_ptr<const ChangeBatch>;

// The batches of one read, recycled: a batch every sink is done with comes back with its
// buffers (a batch of cells is a few hundred KB: allocating one per batch costs page faults
// each time). Holds at most the batches alive at once. Thread-safe; outlives its batches.
class BatchPool {
 public:
  ~BatchPool() {
    for (ChangeBatch* b : free_) delete b;
  }
  std::shared_ptr<ChangeBatch> Get() {
    ChangeBatch* b = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        b = free_.back();
        free_.pop_back();
      }
    }
    if (!b) b = new ChangeBatch();
    return std::shared_ptr<ChangeBatch>(b, [this](ChangeBatch* done) {
      std::lock_guard lock(mu_);
      free_.push_back(done);
    });
  }

 private:
  std::mutex mu_;
  std::vector<ChangeBatch*> free_;
};

// One sink behind its bounded queue, on its own thread: Open, Write per batch, Finish.
class Lane {
 public:
  Lane(Sink& sink, size_t capacity, const TableInfo& table, const LogPosition& snapshot)
      : sink_(sink), capacity_(std::max<size_t>(capacity, 1)) {
    out_.name = sink.name();
    thread_ = std::thread([this, &table, &snapshot] { Loop(table, snapshot); });
  }
  ~Lane() { Join(); }

  // Queues a batch, waiting while the queue is full; a failed sink takes nothing.
  void Push(BatchPtr batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return failed_ || queue_.size() < capacity_; });
    if (failed_) return;
    queue_.push_back(std::move(batch));
    cv_.notify_all();
  }
  // No more batches: the sink is finished (with `finish`) once its queue is written.
  void Close(bool finish) {
    std::lock_guard lock(mu_);
    finish_.store(finish);
    closed_ = true;
    cv_.notify_all();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  uint64_t durable() const { return durable_.load(); }
  // Durable() and the Checkpoint() read with it, taken together: read one after the other,
  // the sink could move between the two, and a checkpoint ahead of its mark would make a
  // resumed run write those rows again.
  uint64_t durable_with(nlohmann::json* checkpoint) const {
    std::lock_guard lock(mu_);
    *checkpoint = checkpoint_;
    return durable_.load();
  }
  bool failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }
  // After Join.
  SinkOutcome outcome() const {
    SinkOutcome o = out_;
    o.durable = durable_.load();
    o.checkpoint = checkpoint_;
    return o;
  }

 private:
  void Loop(const TableInfo& table, const LogPosition& snapshot) {
    if (!Check(sink_.Open(table, snapshot))) return Drain();
    while (BatchPtr batch = Pop()) {
      Status s = sink_.Write(*batch);
      out_.batches++;
      if (!Check(std::move(s))) return Drain();
    }
    if (finish_.load()) Check(sink_.Finish());
  }
  // Records the sink's progress, or its first error (then it is called no more).
  bool Check(Status s) {
    {
      std::lock_guard lock(mu_);
      checkpoint_ = sink_.Checkpoint();
      durable_.store(sink_.Durable());
    }
    if (s.ok()) return true;
    std::lock_guard lock(mu_);
    out_.status = std::move(s);
    failed_ = true;
    queue_.clear();
    cv_.notify_all();
    return false;
  }
  // A failed sink: waits for the end so that Push never blocks on it.
  void Drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_; });
  }
  BatchPtr Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return nullptr;
    BatchPtr b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

  Sink& sink_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchPtr> queue_;
  bool closed_ = false, failed_ = false;
  std::atomic<bool> finish_{false};
  std::atomic<uint64_t> durable_{0};
  nlohmann::json checkpoint_;  // as of durable_
  SinkOutcome out_;
  std::thread thread_;
};

// The batches read but not yet confirmed; the confirmation of the lowest durable one and
// the report of each sink's own progress.
class Confirmer {
 public:
  Confirmer(const FanOutOptions& options, size_t sinks)
      : options_(options), progress_(sinks), reported_(sinks, 0) {}
  void Read(const ChangeBatch& b, uint64_t rows) {
    pending_.push_back({b.sequence, rows, b.last, b.high_water, b.log});
  }
  // Reports the sinks' progress (when some sink moved; `ended`: after the sinks are
  // joined), then confirms up to the lowest durable sequence of `lanes`.
  Status Advance(const std::vector<std::unique_ptr<Lane>>& lanes, bool ended) {
    uint64_t low = UINT64_MAX;
    bool moved = false;
    for (size_t i = 0; i < lanes.size(); ++i) {
      uint64_t d = lanes[i]->durable();
      nlohmann::json checkpoint;
      if (d != reported_[i]) d = lanes[i]->durable_with(&checkpoint);  // (it may have moved on)
      low = std::min(low, d);
      if (d == reported_[i]) continue;
      moved = true;
      reported_[i] = d;
      progress_[i].checkpoint = std::move(checkpoint);
      for (const auto& m : pending_)
        if (m.sequence == d) progress_[i].mark = m;
    }
    if (moved && options_.progress) RETURN_IF_ERROR(options_.progress(progress_, ended));
    if (lanes.empty()) low = pending_.empty() ? confirmed_ : pending_.back().sequence;
    std::optional<BatchMark> last;
    while (!pending_.empty() && pending_.front().sequence <= low) {
      last = std::move(pending_.front());
      pending_.pop_front();
    }
    if (!last) return Status::Ok();
    confirmed_ = last->sequence;
    return options_.confirm ? options_.confirm(*last) : Status::Ok();
  }
  uint64_t confirmed() const { return confirmed_; }

 private:
  const FanOutOptions& options_;
  std::deque<BatchMark> pending_;
  std::vector<SinkProgress> progress_;
  std::vector<uint64_t> reported_;
  uint64_t confirmed_ = 0;
};

}  // namespace

Status FanOutOutcome::status() const {
  if (!read_status.ok()) return read_status;
  for (const auto& s : sinks)
    if (!s.status.ok()) return Status(s.status.code(), s.name + ": " + s.status.message());
  if (stopped) return Aborted("stopped after " + std::to_string(rows) + " rows");
  if (confirmed != batches)
    return Internal("confirmed " + std::to_string(confirmed) + " of " + std::to_string(batches) +
                    " batches");
  return Status::Ok();
}

FanOutOutcome RunFanOut(ChangeReader& reader, const TableInfo& table, const LogPosition& snapshot,
                        const std::vector<Sink*>& sinks, const FanOutOptions& options) {
  FanOutOutcome out;
  BatchPool pool;  // (before the lanes: destroyed after them)
  std::vector<std::unique_ptr<Lane>> lanes;
  for (Sink* s : sinks)
    lanes.push_back(std::make_unique<Lane>(*s, options.queue_batches, table, snapshot));
  Confirmer confirmer(options, lanes.size());
  while (true) {
    if (options.stop && options.stop->load()) {
      out.stopped = true;
      break;
    }
    std::shared_ptr<ChangeBatch> batch = pool.Get();
    Result<bool> more = reader.Next(batch.get());
    if (!more.ok()) {
      out.read_status = more.status();
      break;
    }
    if (!*more) break;
    batch->sequence = ++out.batches;
    out.rows += batch->size();
    if (options.on_batch) options.on_batch(batch->size());
    // Once a sink has failed nothing past it is confirmed: positions need not be kept.
    bool any_failed = std::any_of(lanes.begin(), lanes.end(), [](auto& l) { return l->failed(); });
    if (!any_failed) confirmer.Read(*batch, out.rows);
    BatchPtr shared = std::move(batch);
    for (auto& l : lanes) l->Push(shared);
    if (Status s = confirmer.Advance(lanes, false); !s.ok()) {
      out.read_status = std::move(s);
      break;
    }
  }
  const bool ended = out.read_status.ok() && !out.stopped;
  for (auto& l : lanes) l->Close(ended);
  for (auto& l : lanes) l->Join();
  if (Status s = confirmer.Advance(lanes, true); !s.ok() && out.read_status.ok())
    out.read_status = std::move(s);
  out.confirmed = confirmer.confirmed();
  for (auto& l : lanes) out.sinks.push_back(l->outcome());
  return out;
}

}  // namespace di
