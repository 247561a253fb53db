#include "sinks/backup_record.h"

#include <algorithm>

#include "core/json_encode.h"
#include "sinks/cell_encoding.h"

namespace di {

RecordWriter::RecordWriter(const TableInfo& table) : mongo_(table.engine == Engine::kMongo) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    std::string key = i ? "," : "{";
    AppendJsonString(table.columns[i].name, key);
    key += ':';
    keys_.push_back(std::move(key));
  }
}

void RecordWriter::Append(const std::vector<Value>& row, std::string& out) const {
  if (mongo_) {
    AppendJson(row[0], JsonStyle::kExtended, out);
    return;
  }
  AppendSql(
      std::min(row.size(), keys_.size()),
      [&](size_t i, std::string& o) { AppendJson(row[i], JsonStyle::kPlain, o); }, out);
}

void RecordWriter::AppendCells(const CellBatch& batch, size_t row, std::string& out) const {
  AppendSql(
      std::min(batch.columns(), keys_.size()),
      [&](size_t i, std::string& o) { AppendCellAsJson(batch, row, i, o); }, out);
}

}  // namespace di
