#include "pipeline/warehouse_load.h"

#include <chrono>

#include "pipeline/backup.h"

namespace di {
namespace {

WarehouseLoad Start(const TableInfo& table) {
  WarehouseLoad r;
  r.engine = table.engine;
  r.table = table.name;
  return r;
}

WarehouseLoad& Done(WarehouseLoad& r, std::chrono::steady_clock::time_point t0, Status s) {
  r.status = std::move(s);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

WarehouseLoad SyncIntoWarehouse(Source& source, const TableInfo& table, Warehouse& warehouse,
                                size_t batch_size, std::optional<Position> after,
                                const Checkpoint& checkpoint, const std::atomic<bool>* stop) {
  auto t0 = std::chrono::steady_clock::now();
  WarehouseLoad r = Start(table);
  if (table.cursor_column.empty())
    return Done(r, t0,
                InvalidArgument(EngineName(table.engine) + "." + table.name +
                                " has no change-tracking column; name one with \"cursor\" in "
                                "the mapping"));
  auto reader = source.Read(table, {batch_size, std::move(after), true});
  if (!reader.ok()) return Done(r, t0, reader.status());
  RecordBatch batch;
  while (true) {
    if (stop && stop->load()) return Done(r, t0, Aborted("stopped after its last checkpoint"));
    auto more = (*reader)->Next(&batch);
    if (!more.ok()) return Done(r, t0, more.status());
    if (!*more) break;
    Status s = warehouse.Upsert(table, batch.rows);
    if (!s.ok()) return Done(r, t0, s);
    r.rows += static_cast<int64_t>(batch.rows.size());
    if (batch.last && checkpoint) {
      s = checkpoint(*batch.last);
      if (!s.ok()) return Done(r, t0, s);
    }
  }
  return Done(r, t0, Status::Ok());
}

}  // namespace di
