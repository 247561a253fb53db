// SYNC_DELETES (pipeline/run.h RunSync): `--mode sync` sees only rows that changed, never a
// row that is gone; with SYNC_DELETES=true, after a table's rows are upserted into a target,
// what that target holds and the source no longer has is deleted from it. For sources where
// change capture (`--mode stream`) is not allowed.
//
// Neither side is sorted the other's way — DynamoDB's Scan has no order, and the warehouse's
// collation need not be the source's — so a merge of two key lists could take a key for
// gone that is not; each target is compared where an exact answer is cheap instead:
// - DynamoDB: the items scanned a page (kPage) at a time; each page's keys looked up in the
//   source by the mapping's key column (one indexed query a page); the items whose row is gone
//   deleted. Memory: a page.
// - The warehouse: the source's keys, read once in key order, copied into a temporary table
//   of the warehouse as they come (memory: a batch); the warehouse deletes, in one
//   transaction, its rows with no key there (Warehouse::DeleteAllBut).
// A key is deleted only when the source answered that it has no such row: an error, a key
// that cannot be looked up, or a stop deletes nothing more. Not thread-safe (one source, one
// target at a time, like the rest of a table's sync).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "aws/dynamodb_client.h"
#include "pipeline/mapping.h"
#include "sinks/object_store.h"
#include "sinks/warehouse.h"
#include "sources/source.h"

namespace di {

struct GoneDeleted {
  int64_t checked = 0;  // the target's keys (DynamoDB) or the source's (warehouse) compared
  int64_t deleted = 0;
};

// The items of m's DynamoDB table whose row `source` no longer has, deleted. `stop`: checked
// between pages (null: never); a stopped pass is Aborted, with what it deleted so far done.
Result<GoneDeleted> DeleteGoneItems(Source& source, const TableInfo& info, const TableMapping& m,
                                    aws::DynamoDbClient& dynamodb, ObjectStore& store,
                                    const std::atomic<bool>* stop);

// The rows of the warehouse's copy of `info` whose key `source` no longer has, deleted, in one
// transaction.
Result<GoneDeleted> DeleteGoneRows(Source& source, const TableInfo& info, Warehouse& warehouse,
                                   size_t batch_size);

}  // namespace di
