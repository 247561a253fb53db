// The result of a table's load into the analytics warehouse: a migrate's full load or a
// sync's upserts (the warehouse sinks, pipeline/table_sinks.h). Sync moves the warehouse's
// own watermark (kept apart from DynamoDB's, so each target is exact on its own) only after a
// batch is committed.
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
  // SYNC_DELETES: the rows whose source row was gone, deleted.
  std::optional<int64_t> deleted = std::nullopt;
};

}  // namespace di
