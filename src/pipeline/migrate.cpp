#include "pipeline/migrate.h"

#include <chrono>
#include <cstdio>
#include <map>

#include "core/json_encode.h"
#include "sinks/dynamo_item.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr size_t kMaxItemBytes = 400 * 1024;

std::string KeyText(const Value& v) {
  return ToJson(v, JsonStyle::kPlain);
}

}  // namespace

const Value* Field(const std::vector<Value>& row, const TableInfo& t, const std::string& name) {
  if (t.engine == Engine::kMongo) return row[0].as<Document>().Find(name);
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].name == name) return &row[i];
  return nullptr;
}

J RowToMap(const std::vector<Value>& row, const TableInfo& t, std::vector<std::string>* warnings) {
  if (t.engine == Engine::kMongo) return ToAttributeValue(row[0], warnings)["M"];
  J m = J::object();
  for (size_t i = 0; i < t.columns.size(); ++i)
    m[t.columns[i].name] = ToAttributeValue(row[i], warnings);
  return m;
}

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
  // Child tables and enrichment sources, described once.
  std::map<std::string, TableInfo> children;
  for (const auto& e : target.embed) {
    auto info = lookup.Describe(e.table);
    if (!info.ok()) return done(info.status());
    children[e.table] = *info;
  }
  std::string aux = target.enrichment == "room_seat_counts" ? "seats"
                    : target.enrichment == "movie_genres"   ? "genres"
                                                            : "";
  if (!aux.empty()) {
    auto info = lookup.Describe(aux);
    if (!info.ok()) return done(info.status());
    children[aux] = *info;
  }
  auto reader = source.Read(table, {options.batch_size, options.after, options.incremental});
  if (!reader.ok()) return done(reader.status());

  std::string dead;  // this batch's dead letters, JSON Lines
  const std::string dead_folder =
      options.dead_letter_prefix + EngineName(table.engine) + "." + table.name + "/";
  RecordBatch batch;
  while (true) {
    if (options.stop && options.stop->load())
      return done(Aborted("stopped after " + std::to_string(options.row_offset + r.rows) +
                          " rows (checkpointed)"));
    auto more = (*reader)->Next(&batch);
    if (!more.ok()) return done(more.status());
    if (!*more) break;
    const int64_t batch_offset = options.row_offset + r.rows;
    r.rows += static_cast<int64_t>(batch.rows.size());
    dead.clear();

    // Embedded children, grouped by the parent value they match.
    std::map<std::string, std::map<std::string, std::vector<J>>>
        grouped;  // embed.as -> parent -> maps
    std::vector<std::string> warnings;
    for (const auto& e : target.embed) {
      std::vector<Value> keys;
      for (const auto& row : batch.rows)
        if (const Value* v = Field(row, table, e.parent_column)) keys.push_back(*v);
      auto rows = lookup.Lookup(children[e.table], e.child_column, keys);
      if (!rows.ok()) return done(rows.status());
      for (const auto& c : *rows)
        if (const Value* v = Field(c, children[e.table], e.child_column))
          grouped[e.as][KeyText(*v)].push_back(RowToMap(c, children[e.table], &warnings));
    }
    std::map<std::string, J> enrichment;  // parent key -> extra attributes
    if (target.enrichment == "room_seat_counts") {
      std::vector<Value> ids;
      for (const auto& row : batch.rows) ids.push_back(*Field(row, table, "id"));
      auto seats = lookup.Lookup(children["seats"], "room_id", ids);
      if (!seats.ok()) return done(seats.status());
      std::map<std::string, std::map<std::string, int64_t>> counts;
      for (const auto& s : *seats)
        counts[KeyText(*Field(s, children["seats"], "room_id"))]
              [Field(s, children["seats"], "seat_type")->as<std::string>()]++;
      for (auto& [room, by_type] : counts) {
        J m = J::object();
        int64_t total = 0;
        for (auto& [type, n] : by_type) {
          m[type] = {{"N", std::to_string(n)}};
          total += n;
        }
        enrichment[room] = {{"seat_counts", {{"M", m}}},
                            {"total_seats", {{"N", std::to_string(total)}}}};
      }
    } else if (target.enrichment == "movie_genres") {
      std::vector<Value> gids;
      for (const auto& row : batch.rows)
        if (const Value* g = Field(row, table, "genre_ids"); g && g->kind() == ValueKind::kArray)
          for (const auto& id : g->as<Array>().items) gids.push_back(id);
      auto genres = lookup.Lookup(children["genres"], "_id", gids);
      if (!genres.ok()) return done(genres.status());
      std::map<std::string, std::string> names;
      for (const auto& g : *genres) {
        const Document& d = g[0].as<Document>();
        if (const Value* n = d.Find("name"); n && n->kind() == ValueKind::kString)
          names[KeyText(*d.Find("_id"))] = n->as<std::string>();
      }
      for (const auto& row : batch.rows) {
        const Value* g = Field(row, table, "genre_ids");
        if (!g || g->kind() != ValueKind::kArray) continue;
        J list = J::array();
        for (const auto& id : g->as<Array>().items)
          if (names.count(KeyText(id))) list.push_back({{"S", names[KeyText(id)]}});
        J extra = {{"genre_names", {{"L", list}}}};
        if (!list.empty()) extra["genre"] = list[0];
        enrichment[KeyText(*Field(row, table, "_id"))] = extra;
      }
    }

    std::vector<aws::WriteRequest> writes;
    for (const auto& row : batch.rows) {
      J item = RowToMap(row, table, &warnings);
      const Value* key = Field(row, table, target.key_column);
      std::string reason;
      if (!key || key->is_null() ||
          (key->kind() == ValueKind::kString && key->as<std::string>().empty()))
        reason = "empty key " + target.key_column;
      if (key && reason.empty()) {
        item.erase(target.key_column);
        item[target.key_attribute] = ToAttributeValue(*key, &warnings);
        std::string k = KeyText(*key);
        for (const auto& e : target.embed) {
          auto& list = grouped[e.as][k];
          if (e.many) {
            J l = J::array();
            for (auto& m : list) l.push_back({{"M", m}});
            item[e.as] = {{"L", l}};
          } else {
            item[e.as] = list.empty() ? J{{"NULL", true}} : J{{"M", list[0]}};
          }
        }
        if (enrichment.count(k))
          for (auto& [a, v] : enrichment[k].items()) item[a] = v;
        for (const auto& ik : target.IndexKeys())
          if (item.contains(ik) && item[ik].contains("NULL")) item.erase(ik);  // sparse index
        size_t size = ItemSize(item);
        if (size > kMaxItemBytes)
          reason = "item of " + std::to_string(size) + " bytes is over DynamoDB's 400 KB";
      }
      if (!reason.empty()) {
        J letter = {{"reason", reason},
                    {"table", EngineName(table.engine) + "." + table.name},
                    {"key", key ? J::parse(ToJson(*key, JsonStyle::kPlain)) : J(nullptr)}};
        dead += letter.dump() + "\n";
        r.dead_lettered++;
        continue;
      }
      writes.push_back({std::move(item), nullptr});
    }
    r.warnings += static_cast<int64_t>(warnings.size());
    size_t n = writes.size();
    auto write_t0 = std::chrono::steady_clock::now();
    auto written = dynamodb.BatchWrite(target.table, std::move(writes));
    if (options.on_batch)
      options.on_batch(
          n, std::chrono::duration<double>(std::chrono::steady_clock::now() - write_t0).count());
    if (!written.ok()) {
      if (written.status().code() == StatusCode::kNotFound) return done(written.status());
      r.failed += static_cast<int64_t>(n);  // the batch failed every retry: recorded, go on
      r.last_batch_error = written.status().message();
      if (options.stop_on_failure) break;
      continue;
    }
    r.written += static_cast<int64_t>(written->written);
    r.failed += static_cast<int64_t>(written->unprocessed.size());
    if (!written->unprocessed.empty()) {
      r.last_batch_error = std::to_string(written->unprocessed.size()) +
                           " items still unprocessed after the retries";
      if (options.stop_on_failure) break;
    }
    if (!dead.empty()) {
      char name[40];
      std::snprintf(name, sizeof name, "rows-%012lld.jsonl", static_cast<long long>(batch_offset));
      r.dead_letter_key = dead_folder;
      Status s = store.Put(dead_folder + name, dead, "application/x-ndjson");
      if (!s.ok()) return done(s);
    }
    if (options.on_progress) options.on_progress(options.row_offset + r.rows);
    if (options.checkpoint && batch.last && r.failed == 0) {
      Status s = options.checkpoint(*batch.last, r);
      if (!s.ok()) return done(s);
    }
  }
  return done(Status::Ok());
}

}  // namespace di
