// PrefetchingStream: a ChangeStream (sources/change_stream.h) read ahead on a thread of its
// own, so the next batch is read from the source and decoded while the stream applies the
// one before it to the targets (the source's sender, the decoding and the targets' answers
// overlap instead of waiting for each other).
//
// Ownership and threads: it owns the inner stream and its reader thread; from the thread
// that starts the reader (the first Next) until Close or the destructor, only the reader
// touches the inner stream. Next, Confirm, Close, Confirmed, LagBytes and where are for one
// caller thread (the stream's), like any ChangeStream.
//
// What it holds: at most `depth` batches read ahead (bounded memory whatever the source's
// backlog). The batches come in the inner stream's order, each as the inner stream gave it
// (empty ones too: an idle stream still hands one over every `wait`).
//
// Confirm is handed to the reader, which tells the source before its next read (within one
// `wait` of an idle source); Confirmed() gives the last place handed over. Close stops the
// reader and tells the source the last place synchronously: its error is the source's.
// A read error comes out of Next after every batch read before it; the stream is then
// dropped and opened again, as with any ChangeStream.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sources/change_stream.h"

namespace di {

class PrefetchingStream : public ChangeStream {
 public:
  explicit PrefetchingStream(std::unique_ptr<ChangeStream> inner, size_t depth = 2);
  ~PrefetchingStream() override;  // stops the reader (within one `wait`); confirms nothing
  PrefetchingStream(const PrefetchingStream&) = delete;
  PrefetchingStream& operator=(const PrefetchingStream&) = delete;

  // The first call starts the reader with `max_changes` and `wait`, which later calls keep.
  Status Next(StreamBatch* batch, size_t max_changes, std::chrono::milliseconds wait) override;
  Status Confirm(const std::string& position) override;
  Status Close() override;
  std::string Confirmed() const override;
  int64_t LagBytes() const override;
  std::string where() const override { return where_; }

 private:
  void Read(size_t max_changes, std::chrono::milliseconds wait);  // the reader thread
  // Stops the reader and waits for it.
  void Stop();

  std::unique_ptr<ChangeStream> inner_;
  const std::string where_;
  const size_t depth_;
  mutable std::mutex mu_;
  std::condition_variable changed_;  // a batch, room for one, a confirm or a stop
  std::deque<StreamBatch> ready_;
  Status failed_;       // the reader's error (it stopped), after the batches in ready_
  bool ended_ = false;  // the reader stopped: failed_ tells why
  bool stop_ = false;
  bool closed_ = false;
  std::string to_confirm_;  // handed over, not yet told to the source
  std::string confirmed_;   // the last place handed over (or the inner's at the start)
  int64_t lag_bytes_ = 0;
  std::thread reader_;
};

}  // namespace di
