// A ChangeStream read ahead on its own thread (sources/prefetching_stream.h).
#include "sources/prefetching_stream.h"

#include <algorithm>
#include <utility>

namespace di {

PrefetchingStream::PrefetchingStream(std::unique_ptr<ChangeStream> inner, size_t depth)
    : inner_(std::move(inner)),
      where_(inner_->where()),
      depth_(std::max<size_t>(1, depth)),
      confirmed_(inner_->Confirmed()),
      lag_bytes_(inner_->LagBytes()) {}

PrefetchingStream::~PrefetchingStream() { Stop(); }

void PrefetchingStream::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (reader_.joinable()) reader_.join();
}

void PrefetchingStream::Read(size_t max_changes, std::chrono::milliseconds wait) {
  for (;;) {
    std::string confirm;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock,
                    [&] { return stop_ || ready_.size() < depth_ || !to_confirm_.empty(); });
      if (stop_) return;
      confirm.swap(to_confirm_);
    }
    Status s;
    StreamBatch batch;
    if (!confirm.empty()) {
      s = inner_->Confirm(confirm);
    } else {
      s = inner_->Next(&batch, max_changes, wait);
    }
    const bool failed = !s.ok();
    {
      std::lock_guard lock(mu_);
      lag_bytes_ = inner_->LagBytes();
      if (failed) {
        // A place not told stays for Close to tell (and report).
        if (!confirm.empty() && to_confirm_.empty()) to_confirm_ = confirm;
        failed_ = std::move(s);
        ended_ = true;
      } else if (confirm.empty()) {
        ready_.push_back(std::move(batch));
      }
    }
    changed_.notify_all();
    if (failed) return;
  }
}

Status PrefetchingStream::Next(StreamBatch* batch, size_t max_changes,
                               std::chrono::milliseconds wait) {
  batch->clear();
  if (closed_) return Internal(where_ + ": the stream was read after it was closed");
  if (!reader_.joinable())
    reader_ = std::thread([this, max_changes, wait] { Read(max_changes, wait); });
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !ready_.empty() || ended_; });
  if (ready_.empty()) return failed_;
  *batch = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return Status::Ok();
}

Status PrefetchingStream::Confirm(const std::string& position) {
  {
    std::lock_guard lock(mu_);
    confirmed_ = position;
    if (closed_ || !reader_.joinable()) {
      to_confirm_.clear();
    } else {
      to_confirm_ = position;
    }
  }
  changed_.notify_all();
  // Before the reader starts, or after it stopped: told here, on the caller's thread.
  if (closed_ || !reader_.joinable()) return inner_->Confirm(position);
  return Status::Ok();
}

Status PrefetchingStream::Close() {
  if (closed_) return Status::Ok();
  Stop();
  closed_ = true;
  std::string confirm;
  {
    std::lock_guard lock(mu_);
    confirm.swap(to_confirm_);
  }
  if (!confirm.empty()) RETURN_IF_ERROR(inner_->Confirm(confirm));
  {
    std::lock_guard lock(mu_);
    lag_bytes_ = inner_->LagBytes();
  }
  return inner_->Close();
}

std::string PrefetchingStream::Confirmed() const {
  std::lock_guard lock(mu_);
  return confirmed_;
}

int64_t PrefetchingStream::LagBytes() const {
  std::lock_guard lock(mu_);
  return lag_bytes_;
}

}  // namespace di
