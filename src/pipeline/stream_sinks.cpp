#include "pipeline/stream_sinks.h"

#include <optional>

#include "core/json_encode.h"
#include "pipeline/backup.h"
#include "pipeline/change_log.h"
#include "pipeline/dynamo_items.h"
#include "pipeline/stream_net.h"
#include "sinks/backup_record.h"
#include "sinks/compressor.h"
#include "sinks/dynamo_item.h"

namespace di {

// ---------------------------------------------------------------------------------------
// The change log

std::string ChangeLogPlace(const StreamChange& change) {
  if (change.table->engine == Engine::kPostgres)  // `order` is the LSN `position` writes
    return PgChangeLogPlace(change.order, change.sequence);
  return ChangeLogPlaceOf(change.table->engine, change.position, change.sequence);
}

namespace {

void AppendKeyObject(const TableInfo& t, const std::vector<Value>& key, std::string& out) {
  out += '{';
  for (size_t i = 0; i < key.size() && i < t.primary_key.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(t.primary_key[i], out);
    out += ':';
    AppendJson(key[i], JsonStyle::kPlain, out);
  }
  out += '}';
}

}  // namespace

void AppendChangeLine(const StreamChange& c, const RecordWriter& record, std::string& out) {
  const TableInfo& t = *c.table;
  out += "{\"op\":\"";
  out += ChangeOpName(c.op);
  out += "\",\"position\":";
  AppendJsonString(c.position, out);
  out += ",\"sequence\":" + std::to_string(c.sequence) + ",\"commit_time\":";
  AppendJson(Value(Timestamp{c.commit_micros}), JsonStyle::kPlain, out);
  if (c.op == ChangeOp::kTruncate) {  // no key, no row: every row is gone
    out += '}';
    return;
  }
  out += ",\"key\":";
  AppendKeyObject(t, KeyOf(t, c.row), out);
  if (c.op != ChangeOp::kDelete) {
    out += ",\"row\":";
    record.Append(c.row, out);
  }
  if (c.has_unchanged()) {
    out += ",\"unchanged\":[";
    bool first = true;
    for (size_t i = 0; i < c.unchanged.size(); ++i) {
      if (!c.unchanged[i]) continue;
      if (!first) out += ',';
      AppendJsonString(t.columns[i].name, out);
      first = false;
    }
    out += ']';
  }
  if (!c.old_key.empty()) {
    out += ",\"old_key\":";
    AppendKeyObject(t, c.old_key, out);
  }
  out += '}';
}

bool Applies(const StreamFrom& from, const StreamChange& change) {
  auto it = from.find(change.table->name);
  return it != from.end() && change.order >= it->second;
}

struct ChangeLogSink::Held {
  std::string lines;
  std::string first;  // the place of its first change
  // Its last change's position, sequence and order (its table is `table`), whose place
  // (ChangeLogPlace) is written once, when the object is named.
  StreamChange last;
  std::shared_ptr<const TableInfo> table;  // the description of its last change
  std::optional<RecordWriter> record;      // for rows of `table`
};

ChangeLogSink::ChangeLogSink(ObjectStore& store, std::string backup_folder, Compression codec,
                             StreamFrom from, std::chrono::milliseconds hold)
    : store_(store),
      folder_(std::move(backup_folder)),
      codec_(codec),
      from_(std::move(from)),
      hold_(hold) {}

ChangeLogSink::~ChangeLogSink() = default;

Status ChangeLogSink::Apply(const StreamBatch& batch) {
  for (const auto& c : batch.changes) {
    if (!Applies(from_, c)) continue;
    auto& h = held_[c.table->name];
    if (!h) h = std::make_unique<Held>();
    if (held_bytes_ == 0) held_since_ = std::chrono::steady_clock::now();
    const size_t before = h->lines.size();
    if (h->lines.empty()) h->first = ChangeLogPlace(c);
    h->last.position = c.position;
    h->last.sequence = c.sequence;
    h->last.order = c.order;
    // A record writer per description of the table (a column added makes another).
    if (c.table != h->table) h->record.emplace(*(h->table = c.table));
    AppendChangeLine(c, *h->record, h->lines);
    h->lines += '\n';
    held_bytes_ += h->lines.size() - before;
  }
  if (held_bytes_ > 0 &&
      (held_bytes_ >= kHoldBytes || std::chrono::steady_clock::now() - held_since_ >= hold_))
    return Flush();
  return Status::Ok();
}

// One object per table held, its changes in log order.
Status ChangeLogSink::Flush() {
  auto compressor = MakeCompressor(codec_);
  for (auto& [name, h] : held_) {
    if (h->lines.empty()) continue;
    std::string data;
    RETURN_IF_ERROR(compressor->Whole(h->lines, data));
    h->last.table = h->table;
    const std::string key = BackupPrefix(folder_, h->table->engine, name, "changes") + h->first +
                            "-" + ChangeLogPlace(h->last) + ".jsonl" + CodecExtension(codec_);
    RETURN_IF_ERROR(store_.Put(key, data, "application/x-ndjson"));
    held_bytes_ -= h->lines.size();
    h->lines.clear();
    ++objects_;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// DynamoDB

struct DynamoStreamSink::Target {
  std::shared_ptr<const TableInfo> info;
  std::unique_ptr<DynamoItems> items;
};

DynamoStreamSink::DynamoStreamSink(const std::vector<TableMapping>& mapping, StreamFrom from,
                                   Source& lookup, aws::DynamoDbClient& dynamodb,
                                   ObjectStore& store, std::string dead_folder)
    : mapping_(mapping),
      from_(std::move(from)),
      lookup_(lookup),
      dynamodb_(dynamodb),
      store_(store),
      dead_folder_(std::move(dead_folder)) {}

DynamoStreamSink::~DynamoStreamSink() = default;

Result<DynamoStreamSink::Target*> DynamoStreamSink::TargetOf(const TableMapping& m) {
  auto& t = targets_[m.table];
  if (!t) {
    ASSIGN_OR_RETURN(TableInfo info, DescribeMapped(lookup_, m));
    auto target = std::make_unique<Target>();
    target->info = std::make_shared<const TableInfo>(std::move(info));
    target->items = std::make_unique<DynamoItems>(lookup_, *target->info, *m.dynamodb, dynamodb_,
                                                  store_, dead_folder_);
    RETURN_IF_ERROR(target->items->Open());
    t = std::move(target);
  }
  return t.get();
}

namespace {

// Whether a row of `m` is rewritten from the source rather than put as streamed: its item
// embeds rows or is enriched from other tables.
bool Joined(const TableMapping& m) {
  return !m.dynamodb->embed.empty() || !m.dynamodb->enrichment.empty();
}

void AddOnce(std::vector<Value>& list, const Value& v) {
  for (const auto& x : list)
    if (x == v) return;
  list.push_back(v);
}

}  // namespace

Status DynamoStreamSink::Touched(const std::vector<StreamChange>& changes, Touch* touch) {
  auto* rewrite = &touch->rewrite;
  for (const auto& c : changes) {
    const TableInfo& t = *c.table;
    for (const auto& m : mapping_) {
      if (!m.dynamodb || m.engine != t.engine) continue;
      auto from = from_.find(m.table);
      if (from == from_.end() || c.order < from->second) continue;  // in the items' snapshot
      if (c.op == ChangeOp::kTruncate) {
        if (m.table == t.name) touch->clear.insert(&m);
        for (const auto& e : m.dynamodb->embed)
          if (e.table == t.name) touch->every.insert(&m);
        continue;
      }
      if (m.table == t.name && Joined(m)) {
        const Value* key = Field(c.row, t, m.dynamodb->key_column);
        if (key) AddOnce((*rewrite)[&m], *key);
        if (!c.old_key.empty() && t.primary_key.size() == 1 &&
            t.primary_key[0] == m.dynamodb->key_column)
          AddOnce((*rewrite)[&m], c.old_key[0]);
      }
      for (const auto& e : m.dynamodb->embed) {
        if (e.table != t.name) continue;
        if (e.parent_column != m.dynamodb->key_column)
          return InvalidArgument("the stream rewrites " + m.table + "'s items by " +
                                 m.dynamodb->key_column + ", but " + e.table + " embeds by " +
                                 e.parent_column);
        const Value* parent = Field(c.row, t, e.child_column);
        if (!parent || parent->is_null())
          return InvalidArgument(
              "a " + std::string(ChangeOpName(c.op)) + " of " + t.name + " at " + c.position +
              " does not say its " + e.child_column + ", so the " + m.table +
              " item that embeds it cannot be found; run --mode setup --with-stream (it sets " +
              t.name + "'s REPLICA IDENTITY FULL) or ALTER TABLE " + t.name +
              " REPLICA IDENTITY FULL");
        AddOnce((*rewrite)[&m], *parent);
        // A child moved to another parent: the one it left is rewritten too.
        const Value* left = c.old_row.empty() ? nullptr : Field(c.old_row, t, e.child_column);
        if (left && !left->is_null()) AddOnce((*rewrite)[&m], *left);
      }
    }
  }
  return Status::Ok();
}

Status DynamoStreamSink::Put(const TableMapping& m, const TableInfo& table,
                             const std::vector<std::vector<Value>>& rows) {
  if (rows.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Target * target, TargetOf(m));
  DynamoItems* items = target->items.get();
  std::unique_ptr<DynamoItems> other;  // the streamed rows have another shape (a column added)
  if (&table != target->info.get() && table.columns.size() != target->info->columns.size()) {
    other =
        std::make_unique<DynamoItems>(lookup_, table, *m.dynamodb, dynamodb_, store_, dead_folder_);
    RETURN_IF_ERROR(other->Open());
    items = other.get();
  }
  ItemRows b;
  b.rows = &rows;
  ASSIGN_OR_RETURN(ItemBatchResult r, items->Write(b, batches_++ * 100000, {}));
  if (r.failed > 0)
    return Unavailable("DynamoDB " + m.dynamodb->table + ": " + std::to_string(r.failed) +
                       " items not written: " + r.error);
  written_ += r.written;
  return Status::Ok();
}

Status DynamoStreamSink::Delete(const TableMapping& m, const std::vector<Value>& keys) {
  if (keys.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Target * target, TargetOf(m));
  std::vector<std::string> avs;
  for (const auto& k : keys) {
    std::string key = target->items->KeyAttributeValue(k);
    if (!key.empty()) avs.push_back(std::move(key));  // else never a key of the table
  }
  RETURN_IF_ERROR(DeleteItemKeys(dynamodb_, m.dynamodb->table, m.dynamodb->key_attribute, avs));
  deleted_ += static_cast<int64_t>(keys.size());
  return Status::Ok();
}

Status DynamoStreamSink::Rewrite(const TableMapping& m, const std::vector<Value>& keys) {
  if (keys.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Target * target, TargetOf(m));
  ASSIGN_OR_RETURN(auto rows, lookup_.Lookup(*target->info, m.dynamodb->key_column, keys));
  // Keys compared as DynamoDB writes them ({"N":"5"}): a key read back from a scan (a
  // Decimal) and a row's (an int) are equal as these.
  std::set<std::string> found;
  for (const auto& row : rows)
    if (const Value* v = Field(row, *target->info, m.dynamodb->key_column))
      found.insert(target->items->KeyAttributeValue(*v));
  std::vector<Value> gone;
  for (const auto& k : keys)
    if (!found.count(target->items->KeyAttributeValue(k))) gone.push_back(k);
  RETURN_IF_ERROR(Put(m, *target->info, rows));
  return Delete(m, gone);
}

Status DynamoStreamSink::EachItem(const TableMapping& m, bool rewrite) {
  const std::string& attribute = m.dynamodb->key_attribute;
  nlohmann::json start = nullptr;
  do {
    ASSIGN_OR_RETURN(aws::Page page, dynamodb_.Scan(m.dynamodb->table, 500, start));
    std::vector<Value> keys;
    for (const auto& item : page.items) {
      auto key = LookupValueOfKey(m.engine, item.value(attribute, nlohmann::json()));
      if (!key.ok())
        return InvalidArgument("DynamoDB " + m.dynamodb->table + ": an item's key " + attribute +
                               ": " + key.status().message());
      keys.push_back(std::move(*key));
    }
    RETURN_IF_ERROR(rewrite ? Rewrite(m, keys) : Delete(m, keys));
    start = page.last_evaluated_key;
  } while (!start.is_null());
  return Status::Ok();
}

Status DynamoStreamSink::Apply(const StreamBatch& batch) {
  if (batch.changes.empty()) return Status::Ok();
  // A table described anew (a column added or dropped): its items are read and built with
  // the new description from now on.
  for (const auto& c : batch.changes) {
    auto& seen = seen_[c.table->name];
    if (seen && seen != c.table) targets_.erase(c.table->name);
    seen = c.table;
  }
  Touch touch;
  RETURN_IF_ERROR(Touched(batch.changes, &touch));
  auto& rewrite = touch.rewrite;
  ASSIGN_OR_RETURN(auto net, NetChanges(batch.changes, [this](const StreamChange& c) {
                     return Applies(from_, c);
                   }));
  // A TRUNCATE's table is emptied before the rows the batch gives it after the TRUNCATE.
  for (const TableMapping* m : touch.clear) RETURN_IF_ERROR(EachItem(*m, false));
  for (const auto& table : net) {
    for (const auto& m : mapping_) {
      if (!m.dynamodb || m.table != table.name || Joined(m)) continue;
      // Rows streamed whole are put as they are; rows the source did not send whole are
      // read again; deleted keys are deleted.
      std::map<const TableInfo*, std::vector<std::vector<Value>>> puts;
      std::vector<Value> deletes;
      for (const auto& r : table.rows) {
        if (r.deleted || r.has_unchanged()) {
          if (r.key.size() != 1 || r.table->primary_key[0] != m.dynamodb->key_column)
            return InvalidArgument("the stream deletes " + m.table + "'s items by " +
                                   m.dynamodb->key_column + ", which is not its primary key");
          (r.deleted ? deletes : rewrite[&m]).push_back(r.key[0]);
        } else if (Field(r.row, *r.table, m.dynamodb->key_column)) {
          puts[r.table.get()].push_back(r.row);
        }
      }
      for (const auto& [info, rows] : puts) RETURN_IF_ERROR(Put(m, *info, rows));
      RETURN_IF_ERROR(Delete(m, deletes));
    }
  }
  for (const auto& [m, keys] : rewrite) RETURN_IF_ERROR(Rewrite(*m, keys));
  for (const TableMapping* m : touch.every) RETURN_IF_ERROR(EachItem(*m, true));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// The warehouse

Status WarehouseStreamSink::Apply(const StreamBatch& batch) {
  if (batch.changes.empty() && !open_) return Status::Ok();
  if (!warehouse_) {
    ASSIGN_OR_RETURN(warehouse_, OpenWarehouse(url_));
  }
  if (!open_) {
    if (Status s = warehouse_->Begin(); !s.ok()) {
      warehouse_.reset();
      return s;
    }
    open_ = true;
  }
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto net, NetChanges(batch.changes, [this](const StreamChange& c) {
                       return Applies(from_, c);
                     }));
    for (const auto& table : net) {
      if (table.truncated) RETURN_IF_ERROR(warehouse_->TruncateIn(*table.truncated));
      // Grouped by the table's shape (and, for upserts, the columns they leave as they are);
      // a key is deleted or upserted, never both, so the groups' order does not matter.
      using Rows = std::vector<std::vector<Value>>;
      std::map<const TableInfo*, Rows> deletes;
      std::map<std::pair<const TableInfo*, std::vector<bool>>, Rows> upserts;
      for (const auto& r : table.rows) {
        if (r.deleted)
          deletes[r.table.get()].push_back(r.key);
        else
          upserts[{r.table.get(), r.unchanged}].push_back(r.row);
      }
      for (const auto& [info, keys] : deletes) RETURN_IF_ERROR(warehouse_->DeleteIn(*info, keys));
      for (const auto& [shape, rows] : upserts)
        RETURN_IF_ERROR(warehouse_->UpsertIn(*shape.first, rows,
                                             shape.second.empty() ? nullptr : &shape.second));
    }
    if (!batch.mid_transaction) {
      open_ = false;
      return warehouse_->Commit();
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    open_ = false;
    warehouse_.reset();  // rolled back; the stream gives the changes again
  }
  return s;
}

}  // namespace di
