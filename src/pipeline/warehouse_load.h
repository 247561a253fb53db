// Tables into the analytics warehouse: the incremental sync that upserts the rows changed
// since the last full load (migrate's warehouse sink, pipeline/table_sinks.h) or sync,
// batch by batch, moving its own watermark (kept apart from DynamoDB's, so each target is
// exact on its own) only after a batch is committed. WarehouseLoad is also the full load's
// result.
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

// Rows after `after` ((cursor, key) order; all rows when unset) upserted by primary key.
WarehouseLoad SyncIntoWarehouse(Source& source, const TableInfo& table, Warehouse& warehouse,
                                size_t batch_size, std::optional<Position> after,
                                const Checkpoint& checkpoint,
                                const std::atomic<bool>* stop = nullptr);

}  // namespace di
