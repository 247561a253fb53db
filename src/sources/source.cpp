#include "sources/source.h"

namespace di {

std::string EngineName(Engine e) {
  switch (e) {
    case Engine::kMySql:
      return "mysql";
    case Engine::kPostgres:
      return "postgresql";
    case Engine::kMongo:
      return "mongodb";
  }
  return "unknown";
}

std::vector<size_t> KeysetColumns(const TableInfo& table) {
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == name) return i;
    return size_t{0};
  };
  std::vector<size_t> idx{index_of(table.cursor_column)};
  for (const auto& k : table.primary_key) idx.push_back(index_of(k));
  return idx;
}

Position PositionOf(const std::vector<Value>& row, const std::vector<size_t>& keyset) {
  Position p{row[keyset[0]], {}};
  for (size_t i = 1; i < keyset.size(); ++i) p.key.push_back(row[keyset[i]]);
  return p;
}

}  // namespace di
