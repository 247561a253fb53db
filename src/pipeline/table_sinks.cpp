#include "pipeline/table_sinks.h"

namespace di {
namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A batch's rows as Values: its own, or its cells decoded into `scratch`.
const std::vector<std::vector<Value>>& RowsOf(const ChangeBatch& batch, const TableInfo& table,
                                              std::vector<std::vector<Value>>& scratch) {
  if (!batch.has_cells) return batch.rows;
  scratch.resize(batch.cells.rows());
  for (size_t r = 0; r < scratch.size(); ++r) {
    scratch[r].resize(table.columns.size());
    for (size_t c = 0; c < table.columns.size(); ++c) scratch[r][c] = batch.cells.value(r, c);
  }
  return scratch;
}

}  // namespace

BackupSink::BackupSink(ObjectStore& store, const TableInfo& table, const BackupOptions& options,
                       const std::string& run_id, const nlohmann::json& resume)
    : table_(table), run_id_(run_id), writer_(store, table, options, run_id) {
  if (resume.is_object() && resume.contains("parts")) writer_.Resume(resume["parts"]);
}

Status BackupSink::Open(const TableInfo&, const LogPosition& snapshot) {
  writer_.set_snapshot(snapshot);
  return Status::Ok();
}

Status BackupSink::Write(const ChangeBatch& batch) {
  const size_t parts = writer_.completed_parts().size();
  if (batch.high_water) high_water_ = batch.high_water;
  last_ = batch.sequence;
  RETURN_IF_ERROR(writer_.Append(batch));
  // A part that ended with this batch holds it and every batch before it.
  if (writer_.completed_parts().size() > parts) durable_ = batch.sequence;
  return Status::Ok();
}

Status BackupSink::Finish() {
  ASSIGN_OR_RETURN(manifest_key_, writer_.Finish(high_water_));
  durable_ = last_;
  return Status::Ok();
}

nlohmann::json BackupSink::Checkpoint() const {
  return {{"parts", writer_.completed_parts()}};
}

TableBackup BackupSink::result() const {
  TableBackup r;
  r.engine = table_.engine;
  r.table = table_.name;
  r.run_id = run_id_;
  r.rows = writer_.rows();
  r.bytes = writer_.bytes();
  r.parts = writer_.completed_parts().size();
  r.manifest_key = manifest_key_;
  r.seconds = Since(t0_);
  return r;
}

DynamoSink::DynamoSink(Source& lookup, const TableInfo& table, const DynamoTarget& target,
                       aws::DynamoDbClient& dynamodb, ObjectStore& store,
                       const std::string& dead_folder, int64_t offset, const nlohmann::json& resume,
                       std::function<void(size_t items, double seconds)> on_batch)
    : target_(target),
      items_(lookup, table, target, dynamodb, store, dead_folder),
      on_batch_(std::move(on_batch)),
      offset_(offset) {
  r_.engine = table.engine;
  r_.table = table.name;
  r_.target = target.table;
  if (resume.is_object()) AddCounts(r_, resume);
}

Status DynamoSink::Open(const TableInfo&, const LogPosition&) {
  RETURN_IF_ERROR(items_.Open());
  asked_ = items_.asked();
  return Status::Ok();
}

Status DynamoSink::Write(const ChangeBatch& batch) {
  last_ = batch.sequence;
  if (batch.high_water) r_.high_water = batch.high_water;
  ItemRows rows{&batch.rows, nullptr, nullptr, 0};
  if (batch.has_cells) {  // the values the items ask for, decoded once per row
    asked_values_.clear();
    for (size_t row = 0; row < batch.cells.rows(); ++row)
      for (size_t i : asked_) asked_values_.push_back(batch.cells.value(row, i));
    rows = ItemRows{nullptr, &batch.cells, &asked_values_, asked_.size()};
  }
  const int64_t at = offset_;
  offset_ += static_cast<int64_t>(rows.size());
  r_.rows += static_cast<int64_t>(rows.size());
  ASSIGN_OR_RETURN(ItemBatchResult w, items_.Write(rows, at, on_batch_));
  r_.written += w.written;
  r_.dead_lettered += w.dead_lettered;
  r_.failed += w.failed;
  r_.warnings += w.warnings;
  if (!w.dead_letter_key.empty()) r_.dead_letter_key = w.dead_letter_key;
  if (w.failed) {  // recorded; nothing past it is durable, so a later run writes it again
    r_.last_batch_error = w.error;
    failed_ = true;
  }
  if (!failed_) durable_ = batch.sequence;
  return Status::Ok();
}

Status DynamoSink::Finish() {
  if (!failed_) durable_ = last_;
  return Status::Ok();
}

TableMigration DynamoSink::result() const {
  TableMigration r = r_;
  r.seconds = Since(t0_);
  return r;
}

nlohmann::json DynamoSink::CountsJson(const TableMigration& r) {
  return {{"rows", r.rows},     {"written", r.written},   {"dead_lettered", r.dead_lettered},
          {"failed", r.failed}, {"warnings", r.warnings}, {"dead_letter_key", r.dead_letter_key}};
}

void DynamoSink::AddCounts(TableMigration& r, const nlohmann::json& c) {
  r.rows += c.value("rows", int64_t{0});
  r.written += c.value("written", int64_t{0});
  r.dead_lettered += c.value("dead_lettered", int64_t{0});
  r.failed += c.value("failed", int64_t{0});
  r.warnings += c.value("warnings", int64_t{0});
  if (r.dead_letter_key.empty()) r.dead_letter_key = c.value("dead_letter_key", "");
}

WarehouseSink::WarehouseSink(std::unique_ptr<Warehouse> warehouse, const TableInfo& table,
                             Kind kind)
    : warehouse_(std::move(warehouse)), table_(table), kind_(kind) {}

Status WarehouseSink::Open(const TableInfo&, const LogPosition&) {
  return kind_ == Kind::kFullLoad ? warehouse_->BeginLoad(table_) : Status::Ok();
}

Status WarehouseSink::Write(const ChangeBatch& batch) {
  const auto& rows = RowsOf(batch, table_, rows_);
  RETURN_IF_ERROR(kind_ == Kind::kFullLoad ? warehouse_->Write(rows)
                                           : warehouse_->Upsert(table_, rows));
  last_ = batch.sequence;
  if (batch.high_water) high_water_ = batch.high_water;
  count_ += static_cast<int64_t>(batch.size());
  if (kind_ == Kind::kUpsert) durable_ = last_;
  return Status::Ok();
}

Status WarehouseSink::Finish() {
  if (kind_ == Kind::kFullLoad) RETURN_IF_ERROR(warehouse_->CommitLoad());
  durable_ = last_;
  return Status::Ok();
}

WarehouseLoad WarehouseSink::result() const {
  WarehouseLoad r;
  r.engine = table_.engine;
  r.table = table_.name;
  r.rows = count_;
  r.high_water = high_water_;
  r.seconds = Since(t0_);
  return r;
}

}  // namespace di
