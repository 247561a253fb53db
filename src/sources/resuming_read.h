// A table read that carries on after its source's connection drops (a DBA's
// pg_terminate_backend or KILL CONNECTION, a server restart, a failover, the network): the
// source reconnects with backoff, and the read is opened again after the last row it gave,
// so no row is lost and none comes twice.
//   An ordered read (ReadOptions::ordered) carries on from its last batch's position.
//   A full read of a table with a primary key comes in key order (every engine's full read
//   sorts by it), so it carries on as a read by key after the last key it gave.
//   A full read of a table without one cannot: the loss is an error that says so.
// The rest of the table is read in the snapshot the source still holds (PostgreSQL's pinned
// snapshot lives on its own session), else in a new one: Source::Reconnect's note, logged.
//
// Owns the reader in use and the ones that failed (batches they gave may still be queued:
// their cell decoders stay valid); borrows the source, which outlives it. Not thread-safe,
// like every RowReader. Errors other than a lost connection are returned as they are.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "sources/source.h"

namespace di {

struct ReconnectPolicy {
  // Reconnects in a row (no batch read between them) before the read fails; 0: none.
  int max_retries = 0;
  std::chrono::milliseconds delay{5000};        // before the first; doubled each time, up to 60 s
  const std::atomic<bool>* stop = nullptr;      // set while waiting: the read ends Aborted
  std::function<void(const std::string&)> say;  // a line per lost connection and reconnect
  // Called when a reconnect lost the snapshot the read was in (Source::Reconnect's note): the
  // read's place in the change log no longer describes what it read.
  std::function<void()> on_snapshot_lost;
};

// `source.Read(table, options)` that carries on as above under `policy` (with max_retries 0,
// the reader itself).
Result<std::unique_ptr<RowReader>> ResumingRead(Source& source, const TableInfo& table,
                                                const ReadOptions& options,
                                                const ReconnectPolicy& policy);

}  // namespace di
