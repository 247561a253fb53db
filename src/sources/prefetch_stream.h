// A ChangeStream read ahead on a thread of its own: while the caller applies one batch, the
// next ones are read and decoded (at most `depth` waiting), so reading the source and
// writing the targets overlap instead of taking turns. Engine-neutral: it wraps any
// ChangeStream.
//
// Confirm records the place; the reading thread sends it to the source before its next read
// (within the inner stream's `wait` when idle) and when the stream is closed, so nothing is
// confirmed that the caller has not confirmed. Confirmed() is the last place the caller
// confirmed. When the inner stream fails, the batches read before the failure are dropped
// and Next returns the error: the caller opens the stream again from the confirmed place,
// where they come again.
//
// Owns the inner stream and its thread (joined by the destructor, which confirms the last
// place first). Next, Confirm, Confirmed, LagBytes and where are called from one thread (the
// applier); the inner stream is touched only by the reading thread until it ends.
#pragma once

#include <chrono>
#include <memory>

#include "sources/change_stream.h"

namespace di {

std::unique_ptr<ChangeStream> Prefetched(std::unique_ptr<ChangeStream> inner, size_t max_changes,
                                         std::chrono::milliseconds wait, size_t depth = 2);

}  // namespace di
