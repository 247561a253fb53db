// Sink: one target of a table's read — the S3 backup, DynamoDB, the warehouse, a database
// for restore. A sink owns its target's encoding (backup records, AttributeValue JSON, COPY
// text) and says how far it has made its input durable, so the pipeline confirms a position
// (a resume checkpoint now, a change-log position later) only once every sink of the table
// has passed it.
//
// The fan-out (pipeline/fanout.h) calls one sink from one thread at a time: Open, then
// Write for each batch in order, then Finish when the read ended; a sink need not be
// thread-safe. Durable() and Checkpoint() are read from that same thread right after each
// call. A sink destroyed without Finish leaves what it made durable and nothing else. A sink that
// fails returns the error and is called no more; what it made durable before stays counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/change.h"
#include "core/status.h"

namespace di {

class Sink {
 public:
  virtual ~Sink() = default;
  // For logs and reports: "backup", "dynamodb:cinema-users", "warehouse".
  virtual std::string name() const = 0;
  // Before the first batch: the table and the place in the source's change log its
  // snapshot was read at (empty when the source gave none).
  virtual Status Open(const TableInfo& table, const LogPosition& snapshot) = 0;
  // Applies (or buffers) one batch; batches come in sequence order. The batch is shared
  // with the table's other sinks: read it, never keep a reference past the call.
  virtual Status Write(const ChangeBatch& batch) = 0;
  // The sequence of the last batch such that it and every batch before it are durable in
  // the target (0: none yet).
  virtual uint64_t Durable() const = 0;
  // After the last batch of a read that ended (never after a failed or stopped one):
  // makes everything durable (the last part and the manifest, the last upserts);
  // Durable() then covers every batch written.
  virtual Status Finish() = 0;
  // What a resumed run needs to carry on after Durable() (the parts stored, the counts so
  // far), read with Durable(); null when there is nothing to keep.
  virtual nlohmann::json Checkpoint() const { return nullptr; }
  // Whether batches may come as cells (core/cells.h) rather than Values.
  virtual bool TakesCells() const { return true; }
  // Whether batches may come as backup records (ChangeBatch::records); a reader of records
  // feeds only sinks that take them (the database sinks of restore).
  virtual bool TakesRecords() const { return false; }
};

using SinkPtr = std::unique_ptr<Sink>;

}  // namespace di
