#include "sources/prefetch_stream.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace di {
namespace {

class PrefetchedStream : public ChangeStream {
 public:
  PrefetchedStream(std::unique_ptr<ChangeStream> inner, size_t max_changes,
                   std::chrono::milliseconds wait, size_t depth)
      : inner_(std::move(inner)),
        max_changes_(max_changes),
        wait_(wait),
        depth_(std::max<size_t>(1, depth)),
        where_(inner_->where()),
        confirmed_(inner_->Confirmed()),
        sent_(confirmed_),
        lag_(inner_->LagBytes()) {
    thread_ = std::thread([this] { Read(); });
  }

  ~PrefetchedStream() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    thread_.join();
    // One thread again: the last place the caller confirmed goes to the source. A failure
    // only means the source gives those changes again.
    if (error_.ok() && confirmed_ != sent_) inner_->Confirm(confirmed_).ok();
  }

  Status Next(StreamBatch* batch, size_t, std::chrono::milliseconds wait) override {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait_for(lock, wait, [&] { return !queue_.empty() || !error_.ok(); });
    if (!error_.ok()) return error_;
    batch->clear();
    if (queue_.empty()) return Status::Ok();
    *batch = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return Status::Ok();
  }

  Status Confirm(const std::string& position) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    confirmed_ = position;
    return Status::Ok();
  }

  std::string Confirmed() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return confirmed_;
  }
  int64_t LagBytes() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return lag_;
  }
  std::string where() const override { return where_; }

 private:
  // The reading thread: sends the caller's confirmed place, reads a batch, queues it (when
  // it holds anything), until stopped or the inner stream fails.
  void Read() {
    StreamBatch batch;
    for (;;) {
      std::string confirm;
      {
        std::unique_lock<std::mutex> lock(mu_);
        space_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
        if (confirmed_ != sent_) confirm = confirmed_;
      }
      if (!confirm.empty()) {
        if (Status s = inner_->Confirm(confirm); !s.ok()) return Fail(s);
        std::lock_guard<std::mutex> lock(mu_);
        sent_ = confirm;
      }
      if (Status s = inner_->Next(&batch, max_changes_, wait_); !s.ok()) return Fail(s);
      const bool empty = batch.changes.empty() && batch.resume.empty() && batch.warnings.empty();
      {
        std::lock_guard<std::mutex> lock(mu_);
        lag_ = inner_->LagBytes();
        if (!empty) queue_.push_back(std::move(batch));
      }
      if (!empty) ready_.notify_one();
      batch = StreamBatch();
    }
  }

  void Fail(const Status& s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = s;
      queue_.clear();  // read after the confirmed place: the source gives them again
    }
    ready_.notify_all();
  }

  std::unique_ptr<ChangeStream> inner_;
  const size_t max_changes_;
  const std::chrono::milliseconds wait_;
  const size_t depth_;
  const std::string where_;
  mutable std::mutex mu_;
  std::condition_variable ready_;  // a batch queued, or the inner stream failed
  std::condition_variable space_;  // a batch taken, or stopping
  std::deque<StreamBatch> queue_;
  std::string confirmed_;  // by the caller
  std::string sent_;       // to the source
  int64_t lag_ = 0;
  Status error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<ChangeStream> Prefetched(std::unique_ptr<ChangeStream> inner, size_t max_changes,
                                         std::chrono::milliseconds wait, size_t depth) {
  return std::make_unique<PrefetchedStream>(std::move(inner), max_changes, wait, depth);
}

}  // namespace di
