#include "pipeline/stream_net.h"

#include <map>
#include <unordered_map>

#include "core/json_encode.h"

namespace di {
namespace {

std::string KeyText(const std::vector<Value>& key) {
  std::string out;
  for (const auto& v : key) {
    AppendJson(v, JsonStyle::kPlain, out);
    out += '\x1f';
  }
  return out;
}

// `c` applied to what the batch made of its key so far (`net`, deleted when new).
void Fold(NetRow& net, const StreamChange& c) {
  if (c.op == ChangeOp::kDelete) {
    net.deleted = true;
    net.row.clear();
    net.unchanged.clear();
  } else if (!c.has_unchanged() || net.deleted || net.table != c.table) {
    net.deleted = false;
    net.row = c.row;
    net.unchanged = c.unchanged;
  } else {  // an update whose unsent values an earlier change of the batch has
    bool any = false;
    for (size_t i = 0; i < c.row.size(); ++i) {
      if (!c.unchanged[i]) {
        net.row[i] = c.row[i];
        if (net.has_unchanged()) net.unchanged[i] = false;
      }
      any = any || (net.has_unchanged() && net.unchanged[i]);
    }
    if (!any) net.unchanged.clear();
  }
  net.table = c.table;
}

}  // namespace

std::vector<Value> KeyOf(const TableInfo& table, const std::vector<Value>& row) {
  std::vector<Value> key;
  for (const auto& k : table.primary_key)
    for (size_t i = 0; i < table.columns.size() && i < row.size(); ++i)
      if (table.columns[i].name == k) key.push_back(row[i]);
  return key;
}

Result<std::vector<NetTable>> NetChanges(const std::vector<StreamChange>& changes,
                                         const std::function<bool(const StreamChange&)>& keep) {
  std::vector<NetTable> tables;
  std::map<std::string, size_t> table_at;
  std::vector<std::unordered_map<std::string, size_t>> row_at;  // per table: key text -> row
  auto row_of = [&](size_t t, const std::shared_ptr<const TableInfo>& info,
                    std::vector<Value> key) -> NetRow& {
    auto [it, added] = row_at[t].emplace(KeyText(key), tables[t].rows.size());
    if (added) {
      NetRow fresh;
      fresh.table = info;
      fresh.key = std::move(key);
      fresh.deleted = true;  // nothing yet
      tables[t].rows.push_back(std::move(fresh));
    }
    return tables[t].rows[it->second];
  };
  for (const auto& c : changes) {
    if (keep && !keep(c)) continue;
    const TableInfo& info = *c.table;
    auto [it, added] = table_at.emplace(info.name, tables.size());
    if (added) {
      tables.push_back(NetTable{info.name, nullptr, {}});
      row_at.emplace_back();
    }
    const size_t t = it->second;
    if (c.op == ChangeOp::kTruncate) {  // what came before in the batch is gone with it
      tables[t].truncated = c.table;
      tables[t].rows.clear();
      row_at[t].clear();
      continue;
    }
    if (info.primary_key.empty())
      return InvalidArgument(info.name +
                             " has no primary key: its streamed changes cannot be applied by key");
    if (!c.old_key.empty()) {  // the key moved: the row under the old key is gone
      StreamChange gone;
      gone.op = ChangeOp::kDelete;
      gone.table = c.table;
      Fold(row_of(t, c.table, c.old_key), gone);
    }
    Fold(row_of(t, c.table, KeyOf(info, c.row)), c);
  }
  return tables;
}

}  // namespace di
