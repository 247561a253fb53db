// Tables into the analytics warehouse: a full load (migrate) that replaces each table in
// one transaction and remembers where it ended, and an incremental sync that upserts the
// rows changed since then, batch by batch, moving its own watermark (kept apart from
// DynamoDB's, so each target is exact on its own) only after a batch is committed.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "sinks/warehouse.h"
#include "sources/source.h"

namespace di {

struct WarehouseLoad {
  Engine engine = Engine::kMySql;
  std::string table;
  int64_t rows = 0;
  double seconds = 0;
  std::optional<Position> high_water;  // full load: the greatest (cursor, key) loaded
  Status status;
};

using Checkpoint = std::function<Status(const Position&)>;
using Progress = std::function<void(int64_t rows)>;

// `stop` set: the load stops at the next batch and rolls back (the old table stays).
WarehouseLoad LoadIntoWarehouse(Source& source, const TableInfo& table, Warehouse& warehouse,
                                size_t batch_size, const Progress& progress,
                                const std::atomic<bool>* stop = nullptr);

// Rows after `after` ((cursor, key) order; all rows when unset) upserted by primary key.
WarehouseLoad SyncIntoWarehouse(Source& source, const TableInfo& table, Warehouse& warehouse,
                                size_t batch_size, std::optional<Position> after,
                                const Checkpoint& checkpoint,
                                const std::atomic<bool>* stop = nullptr);

}  // namespace di
