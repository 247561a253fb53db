// The net effect of a batch of streamed changes (sources/change_stream.h) on each table: per
// primary key, the row it ends with or its deletion, folding the batch's changes in order
// (an update's unsent values taken from an earlier change of the batch where there is one).
// A target that applies a batch's net effect ends where applying every change in order would,
// with each key written once — so the writes of a batch can go in parallel, in any order.
// Plain functions over values; thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sources/change_stream.h"

namespace di {

struct NetRow {
  std::shared_ptr<const TableInfo> table;  // of the last change of the key
  std::vector<Value> key;                  // in primary_key order
  bool deleted = false;
  std::vector<Value> row;       // !deleted: the row it ends with
  std::vector<bool> unchanged;  // !deleted: columns no change of the batch sent (empty: none)
  bool has_unchanged() const { return !unchanged.empty(); }
};

struct NetTable {
  std::string name;
  // Set when the batch emptied the table (a TRUNCATE: its description then): every row a
  // target has goes first, then `rows` (the changes after the last TRUNCATE) apply.
  std::shared_ptr<const TableInfo> truncated;
  std::vector<NetRow> rows;  // keys in the order the batch first touched them
};

// Tables in the order the batch first touched them. A change of a table without a primary
// key cannot be netted (a TRUNCATE can): it is an error naming the table.
// `keep` (when set) picks the changes that count.
Result<std::vector<NetTable>> NetChanges(
    const std::vector<StreamChange>& changes,
    const std::function<bool(const StreamChange&)>& keep = nullptr);

// The values of `table`'s primary key in `row`.
std::vector<Value> KeyOf(const TableInfo& table, const std::vector<Value>& row);

}  // namespace di
