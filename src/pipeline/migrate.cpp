#include "pipeline/migrate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "pipeline/backup.h"
#include "pipeline/dynamo_items.h"

namespace di {

TableMigration MigrateTable(Source& source, Source& lookup, const TableInfo& table,
                            const DynamoTarget& target, aws::DynamoDbClient& dynamodb,
                            ObjectStore& store, const MigrateOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  TableMigration r;
  r.engine = table.engine;
  r.table = table.name;
  r.target = target.table;
  auto done = [&](Status s) {
    r.status = std::move(s);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  DynamoItems items(lookup, table, target, dynamodb, store,
                    options.dead_letter_prefix + EngineName(table.engine) + "." + table.name + "/");
  if (Status s = items.Open(); !s.ok()) return done(s);
  ReadOptions read{options.batch_size, options.after, options.incremental};
  auto opened = source.Read(table, read);
  if (!opened.ok()) return done(opened.status());
  // A reader that gives the server's text (cells) skips the rows' values: the items'
  // attributes are written from the cells, and only the columns the items ask for and the
  // high water's (where a later sync starts) are decoded, asked in that order.
  HighWater high(table);
  r.high_water = high.value();
  std::vector<size_t> asked = items.asked();
  const size_t keyset_at = asked.size();
  for (size_t i : high.keyset()) asked.push_back(i);
  const bool cells = items.TakesCells() && (*opened)->CanReadCells();
  // The next batch is read while this one is encoded and written.
  auto reader = std::make_unique<PrefetchReader>(std::move(*opened), cells);
  RecordBatch batch;
  CellBatch cell_batch;
  std::vector<Value> asked_values;  // cells: per row, the values of `asked`
  while (true) {
    if (options.stop && options.stop->load())
      return done(Aborted("stopped after " + std::to_string(r.rows) + " rows (checkpointed)"));
    auto more = cells ? reader->NextCells(&cell_batch) : reader->Next(&batch);
    if (!more.ok()) return done(more.status());
    if (!*more) break;
    ItemRows rows{&batch.rows, nullptr, nullptr, 0};
    if (cells) {
      asked_values.clear();
      for (size_t row = 0; row < cell_batch.rows(); ++row)
        for (size_t i : asked) asked_values.push_back(cell_batch.value(row, i));
      rows = ItemRows{nullptr, &cell_batch, &asked_values, asked.size()};
    }
    for (size_t row = 0; row < rows.size(); ++row) {
      if (!cells)
        high.Add(batch.rows[row]);
      else if (!high.keyset().empty())
        high.AddKeyset(&asked_values[row * asked.size() + keyset_at]);
    }
    const int64_t batch_offset = r.rows;
    r.rows += static_cast<int64_t>(rows.size());
    auto written = items.Write(rows, batch_offset, options.on_batch);
    if (!written.ok()) return done(written.status());
    r.high_water = high.value();
    r.written += written->written;
    r.dead_lettered += written->dead_lettered;
    r.failed += written->failed;
    r.warnings += written->warnings;
    if (!written->dead_letter_key.empty()) r.dead_letter_key = written->dead_letter_key;
    if (written->failed) {  // recorded; no checkpoint moves past it
      r.last_batch_error = written->error;
      if (options.stop_on_failure) break;
    }
    if (options.on_progress) options.on_progress(r.rows);
    const std::optional<Position>& last = cells ? cell_batch.last : batch.last;
    if (options.checkpoint && last && r.failed == 0) {
      Status s = options.checkpoint(*last, r);
      if (!s.ok()) return done(s);
    }
  }
  return done(Status::Ok());
}

}  // namespace di
