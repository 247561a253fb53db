#include "pipeline/migrate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "core/json_encode.h"
#include "pipeline/backup.h"
#include "sinks/cell_encoding.h"
#include "sinks/dynamo_item.h"

namespace di {
namespace {

using J = nlohmann::json;
constexpr size_t kMaxItemBytes = 400 * 1024;

std::string KeyText(const Value& v) {
  return ToJson(v, JsonStyle::kPlain);
}

// An AttributeValue as JSON text with its DynamoDB size.
struct AvText {
  std::string text;
  size_t size = 0;
};

// One PutRequest written as JSON text while its attributes are added, counting the item's
// size as DynamoDB does (names + values).
class PutRequestText {
 public:
  explicit PutRequestText(std::string& out) : out_(out) { out_ += "{\"PutRequest\":{\"Item\":{"; }
  void Name(std::string_view name) {
    if (count_++) out_ += ',';
    AppendJsonString(name, out_);
    out_ += ':';
    size_ += name.size();
  }
  void Attr(std::string_view name, const Value& v, std::vector<std::string>* warnings) {
    Name(name);
    size_ += AppendAttributeValue(v, out_, warnings);
  }
  void Raw(std::string_view name, std::string_view av_text, size_t av_size) {
    Name(name);
    out_ += av_text;
    size_ += av_size;
  }
  // A cell's AttributeValue (sinks/cell_encoding.h).
  void Cell(std::string_view name, const CellBatch& b, size_t row, size_t column,
            std::vector<std::string>* warnings) {
    Name(name);
    size_ += AppendCellAsAttributeValue(b, row, column, out_, warnings);
  }
  // The same, `quoted`: the name as a JSON string followed by ':'; `name_size`: its bytes.
  void QuotedCell(std::string_view quoted, size_t name_size, const CellBatch& b, size_t row,
                  size_t column, std::vector<std::string>* warnings) {
    if (count_++) out_ += ',';
    out_ += quoted;
    size_ += name_size + AppendCellAsAttributeValue(b, row, column, out_, warnings);
  }
  void Close() { out_ += "}}}"; }
  size_t size() const { return size_; }

 private:
  std::string& out_;
  size_t count_ = 0, size_ = 0;
};

}  // namespace

const Value* Field(const std::vector<Value>& row, const TableInfo& t, const std::string& name) {
  if (t.engine == Engine::kMongo) return row[0].as<Document>().Find(name);
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].name == name) return &row[i];
  return nullptr;
}

size_t AppendRowAsMap(const std::vector<Value>& row, const TableInfo& t, std::string& out,
                      std::vector<std::string>* warnings) {
  if (t.engine == Engine::kMongo) return AppendAttributeValue(row[0], out, warnings);
  return AppendAttributeMap(
      std::min(row.size(), t.columns.size()),
      [&](size_t i) -> std::string_view { return t.columns[i].name; },
      [&](size_t i) -> const Value& { return row[i]; }, out, warnings);
}

J RowToMap(const std::vector<Value>& row, const TableInfo& t, std::vector<std::string>* warnings) {
  std::string text;
  AppendRowAsMap(row, t, text, warnings);
  return J::parse(text)["M"];
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
  ReadOptions read{options.batch_size, options.after, options.incremental, options.by_key};
  auto opened = source.Read(table, read);
  if (!opened.ok()) return done(opened.status());
  // Without enrichment, a reader that gives the server's text (cells) skips the rows' values:
  // the items' attributes are written from the cells, and only the key, the embeds' parent
  // columns and the high water's columns are decoded.
  auto column_index = [&](const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == name) return i;
    return table.columns.size();
  };
  const size_t key_index = column_index(target.key_column);
  std::vector<size_t> asked{key_index};
  for (const auto& e : target.embed) asked.push_back(column_index(e.parent_column));
  // The high water (where a later sync starts) from the (cursor, key) values, asked last.
  HighWater high(table);
  high.Seed(options.high_water);
  r.high_water = high.value();
  const size_t keyset_at = asked.size();
  for (size_t i : high.keyset()) asked.push_back(i);
  const bool cells =
      target.enrichment.empty() && (*opened)->CanReadCells() &&
      std::all_of(asked.begin(), asked.end(), [&](size_t i) { return i < table.columns.size(); });
  // The next batch is read while this one is encoded and written.
  auto reader = std::make_unique<PrefetchReader>(std::move(*opened), cells);

  const std::vector<std::string> index_keys = target.IndexKeys();
  // NULL index keys are left out: the indexes are sparse.
  auto sparse = [&](const std::string& name) {
    return std::find(index_keys.begin(), index_keys.end(), name) != index_keys.end();
  };
  std::string dead;  // this batch's dead letters, JSON Lines
  const std::string dead_folder =
      options.dead_letter_prefix + EngineName(table.engine) + "." + table.name + "/";
  RecordBatch batch;
  CellBatch cell_batch;
  std::vector<Value> asked_values;  // cells: per row, the values of `asked`
  size_t item_bytes = 256;          // the last item's text: room reserved for the next one
  // Attributes set below replace columns of the same name: the key and the embedded lists
  // (known now), and the enrichment's (per row).
  auto replaced_by_mapping = [&](const std::string& name) {
    if (name == target.key_column || name == target.key_attribute) return true;
    for (const auto& e : target.embed)
      if (name == e.as) return true;
    return false;
  };
  // Per column (cells): left out of the item (an attribute set below has its name) or,
  // when NULL, left out (a sparse index key).
  std::vector<char> replaced_column, sparse_column;
  std::vector<std::string> quoted_column;  // "name":
  for (const auto& c : table.columns) {
    replaced_column.push_back(replaced_by_mapping(c.name));
    sparse_column.push_back(sparse(c.name));
    quoted_column.emplace_back();
    AppendJsonString(c.name, quoted_column.back());
    quoted_column.back() += ':';
  }
  while (true) {
    if (options.stop && options.stop->load())
      return done(Aborted("stopped after " + std::to_string(options.row_offset + r.rows) +
                          " rows (checkpointed)"));
    auto more = cells ? reader->NextCells(&cell_batch) : reader->Next(&batch);
    if (!more.ok()) return done(more.status());
    if (!*more) break;
    const int64_t batch_offset = options.row_offset + r.rows;
    r.rows += static_cast<int64_t>(cells ? cell_batch.rows() : batch.rows.size());
    dead.clear();
    std::vector<std::string> writes;
    const std::optional<Position>& last = cells ? cell_batch.last : batch.last;
    const size_t rows = cells ? cell_batch.rows() : batch.rows.size();
    if (cells) {
      asked_values.clear();
      for (size_t row = 0; row < rows; ++row)
        for (size_t i : asked) asked_values.push_back(cell_batch.value(row, i));
    }
    // A row's value of the key or an embed's parent column.
    auto row_value = [&](size_t row, const std::string& name) -> const Value* {
      if (!cells) return Field(batch.rows[row], table, name);
      for (size_t i = 0; i < asked.size(); ++i)
        if (table.columns[asked[i]].name == name) return &asked_values[row * asked.size() + i];
      return nullptr;
    };
    for (size_t row = 0; row < rows; ++row) {
      if (!cells)
        high.Add(batch.rows[row]);
      else if (!high.keyset().empty())
        high.AddKeyset(&asked_values[row * asked.size() + keyset_at]);
    }
    r.high_water = high.value();

    // Embedded children, grouped by the parent value they match.
    std::map<std::string, std::map<std::string, std::vector<AvText>>>
        grouped;  // embed.as -> parent -> child rows as maps
    std::vector<std::string> warnings;
    for (const auto& e : target.embed) {
      std::vector<Value> keys;
      for (size_t row = 0; row < rows; ++row)
        if (const Value* v = row_value(row, e.parent_column)) keys.push_back(*v);
      auto rows = lookup.Lookup(children[e.table], e.child_column, keys);
      if (!rows.ok()) return done(rows.status());
      for (const auto& c : *rows)
        if (const Value* v = Field(c, children[e.table], e.child_column)) {
          AvText m;
          m.size = AppendRowAsMap(c, children[e.table], m.text, &warnings);
          grouped[e.as][KeyText(*v)].push_back(std::move(m));
        }
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

    // A key's text finds its children and enrichment (only mappings that have them).
    const bool joined = !target.embed.empty() || !enrichment.empty();
    for (size_t row = 0; row < rows; ++row) {
      const Value* key = row_value(row, target.key_column);
      std::string reason;
      if (!key || key->is_null() ||
          (key->kind() == ValueKind::kString && key->as<std::string>().empty()))
        reason = "empty key " + target.key_column;
      std::string text;
      if (reason.empty()) {
        text.reserve(item_bytes + 64);
        const std::string k = joined ? KeyText(*key) : std::string();
        auto extra = enrichment.find(k);
        const J* added = extra == enrichment.end() ? nullptr : &extra->second;
        auto replaced = [&](const std::string& name) {
          return replaced_by_mapping(name) || (added && added->contains(name));
        };
        PutRequestText item(text);
        auto column = [&](const std::string& name, const Value& v) {
          if (replaced(name) || (v.is_null() && sparse(name))) return;
          item.Attr(name, v, &warnings);
        };
        if (cells) {
          for (size_t i = 0; i < table.columns.size(); ++i)
            if (!replaced_column[i] && !(cell_batch.null(row, i) && sparse_column[i]))
              item.QuotedCell(quoted_column[i], table.columns[i].name.size(), cell_batch, row, i,
                              &warnings);
          item.Cell(target.key_attribute, cell_batch, row, key_index, &warnings);
        } else {
          const std::vector<Value>& values = batch.rows[row];
          if (table.engine == Engine::kMongo) {
            for (const auto& [name, v] : values[0].as<Document>().fields) column(name, v);
          } else {
            for (size_t i = 0; i < table.columns.size(); ++i)
              column(table.columns[i].name, values[i]);
          }
          item.Attr(target.key_attribute, *key, &warnings);
        }
        for (const auto& e : target.embed) {
          const auto& list = grouped[e.as][k];
          if (e.many) {
            AvText l{"{\"L\":[", 3};
            for (size_t i = 0; i < list.size(); ++i) {
              if (i) l.text += ',';
              l.text += list[i].text;
              l.size += list[i].size + 1;
            }
            l.text += "]}";
            item.Raw(e.as, l.text, l.size);
          } else if (!list.empty()) {
            item.Raw(e.as, list[0].text, list[0].size);
          } else if (!sparse(e.as)) {
            item.Raw(e.as, "{\"NULL\":true}", 1);
          }
        }
        if (added)
          for (const auto& [a, v] : added->items()) item.Raw(a, v.dump(), AttributeValueSize(v));
        item.Close();
        item_bytes = text.size();
        if (item.size() > kMaxItemBytes)
          reason = "item of " + std::to_string(item.size()) + " bytes is over DynamoDB's 400 KB";
      }
      if (!reason.empty()) {
        J letter = {{"reason", reason},
                    {"table", EngineName(table.engine) + "." + table.name},
                    {"key", key ? J::parse(ToJson(*key, JsonStyle::kPlain)) : J(nullptr)}};
        dead += letter.dump() + "\n";
        r.dead_lettered++;
        continue;
      }
      writes.push_back(std::move(text));
    }
    r.warnings += static_cast<int64_t>(warnings.size());
    size_t n = writes.size();
    auto write_t0 = std::chrono::steady_clock::now();
    auto written = dynamodb.BatchWriteText(target.table, std::move(writes));
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
    if (options.checkpoint && last && r.failed == 0) {
      Status s = options.checkpoint(*last, r);
      if (!s.ok()) return done(s);
    }
  }
  return done(Status::Ok());
}

}  // namespace di
