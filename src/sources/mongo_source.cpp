// The MongoDB source (sources/mongo_source.h): the collections, a collection's cursor field
// (checked on one document), row estimates and lookups, and its reader: one find sorted by
// (cursor field, _id), read in batches bounded by count and by BSON bytes.
#include "sources/mongo_source.h"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "core/strings.h"
#include "core/value_order.h"

namespace di {
namespace {

// The BSON a batch holds at most (bar its last document): 256 KiB keeps a batch of large
// documents, and the one read ahead of it, to well under a megabyte each.
constexpr size_t kMaxBatchBsonBytes = 256 * 1024;

class MongoSource;

class MongoReader : public RowReader {
 public:
  MongoReader(MongoSource& src, TableInfo t, ReadOptions o)
      : src_(src), table_(std::move(t)), options_(std::move(o)) {}
  ~MongoReader() override {
    if (cursor_) mongoc_cursor_destroy(cursor_);
    if (coll_) mongoc_collection_destroy(coll_);
  }
  Result<bool> Next(RecordBatch* batch) override;

 private:
  Status Open();

  MongoSource& src_;
  TableInfo table_;
  ReadOptions options_;
  mongoc_collection_t* coll_ = nullptr;
  mongoc_cursor_t* cursor_ = nullptr;
  bool done_ = false;
  size_t in_page_ = 0;
};

class MongoSource : public Source {
 public:
  explicit MongoSource(MongoSettings s) : s_(std::move(s)) {}
  ~MongoSource() override {
    if (client_) mongoc_client_destroy(client_);
  }

  Status Connect() {
    ASSIGN_OR_RETURN(client_, OpenMongoClient(s_, &where_));
    return Status::Ok();
  }

  Engine engine() const override { return Engine::kMongo; }

  Result<std::vector<std::string>> ListTables() override {
    bson_error_t error;
    mongoc_database_t* db = mongoc_client_get_database(client_, s_.database.c_str());
    char** names = mongoc_database_get_collection_names_with_opts(db, nullptr, &error);
    mongoc_database_destroy(db);
    if (!names) return Error("listing collections failed", error);
    std::vector<std::string> out;
    for (char** n = names; *n; ++n)
      if (!StartsWith(*n, "system.")) out.push_back(*n);
    bson_strfreev(names);
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<TableInfo> Describe(const std::string& table, const std::string& cursor_column) override {
    ASSIGN_OR_RETURN(auto tables, ListTables());
    if (std::find(tables.begin(), tables.end(), table) == tables.end())
      return NotFound(where_ + ": collection '" + table + "' does not exist");
    TableInfo t;
    t.engine = Engine::kMongo;
    t.database = s_.database;
    t.name = table;
    t.primary_key = {"_id"};
    // The cursor field is used when documents have it; otherwise _id (its ObjectId time).
    mongoc_collection_t* coll =
        mongoc_client_get_collection(client_, s_.database.c_str(), table.c_str());
    // One document that has it is enough: the first one usually answers; only when it lacks
    // the field is the collection searched (counting them all would scan it every time).
    bool has = false;
    bson_error_t error;
    bool failed = false;
    for (bool search : {false, true}) {
      bson_t* filter = search
                           ? BCON_NEW(cursor_column.c_str(), "{", "$exists", BCON_BOOL(true), "}")
                           : bson_new();
      bson_t* opts = BCON_NEW("limit", BCON_INT64(1), "projection", "{", cursor_column.c_str(),
                              BCON_INT32(1), "}");
      mongoc_cursor_t* found = mongoc_collection_find_with_opts(coll, filter, opts, nullptr);
      const bson_t* doc;
      if (mongoc_cursor_next(found, &doc)) has = bson_has_field(doc, cursor_column.c_str());
      failed = mongoc_cursor_error(found, &error);
      mongoc_cursor_destroy(found);
      bson_destroy(opts);
      bson_destroy(filter);
      if (has || failed) break;
    }
    mongoc_collection_destroy(coll);
    if (failed) return Error("reading collection '" + table + "' failed", error);
    t.cursor_column = has ? cursor_column : "_id";
    return t;
  }

  Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                          const ReadOptions& options) override {
    return std::unique_ptr<RowReader>(new MongoReader(*this, table, options));
  }

  int64_t EstimateRows(const TableInfo& table) override {
    // collStats reads the count from the collection's metadata (FerretDB counts documents
    // for estimatedDocumentCount); the estimate is the fallback where collStats is gone.
    bson_t* cmd = BCON_NEW("collStats", BCON_UTF8(table.name.c_str()));
    bson_t reply;
    bson_error_t stats_error;
    bool ok = mongoc_client_command_simple(client_, s_.database.c_str(), cmd, nullptr, &reply,
                                           &stats_error);
    bson_destroy(cmd);
    bson_iter_t it;
    int64_t count = -1;
    if (ok && bson_iter_init_find(&it, &reply, "count") && BSON_ITER_HOLDS_NUMBER(&it))
      count = bson_iter_as_int64(&it);
    bson_destroy(&reply);
    if (count >= 0) return count;
    mongoc_collection_t* coll =
        mongoc_client_get_collection(client_, s_.database.c_str(), table.name.c_str());
    bson_error_t error;
    int64_t n = mongoc_collection_estimated_document_count(coll, nullptr, nullptr, nullptr, &error);
    mongoc_collection_destroy(coll);
    return n;
  }

  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table, const std::string& column,
                                                 const std::vector<Value>& values) override {
    std::vector<std::vector<Value>> rows;
    if (values.empty()) return rows;
    bson_t filter = BSON_INITIALIZER, in, arr;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, column.c_str(), &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (size_t i = 0; i < values.size(); ++i) AppendBsonValue(&arr, std::to_string(i), values[i]);
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&filter, &in);
    mongoc_collection_t* coll =
        mongoc_client_get_collection(client_, s_.database.c_str(), table.name.c_str());
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, nullptr, nullptr);
    const bson_t* doc;
    while (mongoc_cursor_next(cursor, &doc)) rows.push_back({BsonToValue(doc)});
    bson_error_t error;
    bool failed = mongoc_cursor_error(cursor, &error);
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(coll);
    bson_destroy(&filter);
    if (failed) return Error("reading collection '" + table.name + "' failed", error);
    return rows;
  }

  // The place in the change log a read that starts now sees, "<seconds>:<increment>" of the
  // oplog (local.oplog.rs, which a replica set keeps and the local FerretDB keeps once the
  // stack has created it): the server's operationTime where it gives one (a replica set),
  // else its clock's second (FerretDB, whose oplog times are its clock's seconds and a
  // counter above 0). Asked of the server, not read off the oplog's end, which FerretDB
  // cannot find without reading the whole oplog. Every change committed after the read began
  // is after this place; FerretDB's reads are not isolated, so a change during the read may
  // be in it too, and replaying from here (whole documents, deletes by _id) converges.
  Result<LogPosition> PinSnapshot() override {
    bson_error_t error{};
    mongoc_database_t* local = mongoc_client_get_database(client_, "local");
    const bool exists = mongoc_database_has_collection(local, "oplog.rs", &error);
    mongoc_database_destroy(local);
    if (!exists && error.code != 0)  // the question failed: not an answer
      return Error("looking for the oplog (local.oplog.rs) failed", error);
    if (!exists)
      return Unavailable(where_ +
                         ": the server keeps no oplog (local.oplog.rs), so a read has no place "
                         "in a change log; a replica set has one, and on FerretDB create it "
                         "capped: db.getSiblingDB('local').createCollection('oplog.rs', "
                         "{capped: true, size: 268435456})");
    ASSIGN_OR_RETURN(auto at, ServerTime());
    return LogPosition{Engine::kMongo, std::to_string(at.first) + ":" + std::to_string(at.second),
                       "", 0};
  }

  mongoc_client_t* client() { return client_; }
  const MongoSettings& settings() const { return s_; }
  Status Error(const std::string& what, const bson_error_t& e) const {
    StatusCode code = e.domain == MONGOC_ERROR_CLIENT && e.code == MONGOC_ERROR_CLIENT_AUTHENTICATE
                          ? StatusCode::kUnauthenticated
                          : StatusCode::kUnavailable;
    if (ConnectionError(e)) lost_ = true;
    return Status(code, where_ + ": " + what + ": " + e.message);
  }
  // The last error was the connection's: the server unreachable or restarted (its cursors
  // gone with it).
  bool ConnectionLost() const override { return lost_.load(); }
  // The driver reconnects by itself on the next command: a ping says the server is back.
  Status Reconnect(std::string* note) override {
    (void)note;
    bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t error;
    const bool ok = mongoc_client_command_simple(client_, "admin", cmd, nullptr, nullptr, &error);
    bson_destroy(cmd);
    if (!ok) return Error("the server does not answer", error);
    lost_ = false;
    return Status::Ok();
  }

 private:
  // `hello`'s operationTime (seconds, increment), or its localTime's second with increment 0.
  Result<std::pair<uint32_t, uint32_t>> ServerTime() {
    bson_t* cmd = BCON_NEW("hello", BCON_INT32(1));
    bson_t reply;
    bson_error_t error;
    const bool ok = mongoc_client_command_simple(client_, "admin", cmd, nullptr, &reply, &error);
    bson_destroy(cmd);
    if (!ok) {
      bson_destroy(&reply);
      return Error("asking the server's time (hello) failed", error);
    }
    std::optional<std::pair<uint32_t, uint32_t>> at;
    bson_iter_t it;
    uint32_t t = 0, i = 0;
    if (bson_iter_init_find(&it, &reply, "operationTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
      bson_iter_timestamp(&it, &t, &i);
      at = std::pair<uint32_t, uint32_t>{t, i};
    } else if (bson_iter_init_find(&it, &reply, "localTime") && BSON_ITER_HOLDS_DATE_TIME(&it)) {
      at = std::pair<uint32_t, uint32_t>{static_cast<uint32_t>(bson_iter_date_time(&it) / 1000), 0};
    }
    bson_destroy(&reply);
    if (!at)
      return Unavailable(where_ + ": the server's hello gives neither operationTime nor localTime");
    return *at;
  }

  // Network and server-selection errors, and the server's answers that the connection or
  // the cursor went with a restart: HostUnreachable (6), HostNotFound (7), CursorNotFound
  // (43), ShutdownInProgress (91), NetworkTimeout (89), InterruptedAtShutdown (11600),
  // SocketException (9001).
  static bool ConnectionError(const bson_error_t& e) {
    if (e.domain == MONGOC_ERROR_STREAM || e.domain == MONGOC_ERROR_SERVER_SELECTION) return true;
    switch (e.code) {
      case 6:
      case 7:
      case 43:
      case 89:
      case 91:
      case 9001:
      case 11600:
        return e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_QUERY;
      default:
        return false;
    }
  }

  MongoSettings s_;
  std::string where_;
  mongoc_client_t* client_ = nullptr;
  mutable std::atomic<bool> lost_{false};  // set by Error, cleared by Reconnect
};

// MongoDB's types in its order (core/value_order.h), by their $type names.
constexpr const char* kTypeOrder[] = {"minKey",    "null",    "number",   "string", "object",
                                      "array",     "binData", "objectId", "bool",   "date",
                                      "timestamp", "regex",   "maxKey"};
constexpr int kTypes = sizeof kTypeOrder / sizeof kTypeOrder[0];

// {$or: [{_id: {<op>: key}}, {_id: {$type: [the types on that side of key's]}}]} as element
// `name` of `parent`: a query's $gt or $lte compares only with values of the key's own type,
// so the _ids of the types that sort after (before) it are asked for by type.
void AppendKeyBound(bson_t* parent, const char* name, const char* op, const Value& key) {
  const int rank = BsonTypeRank(key);
  const int from = std::string_view(op) == "$gt" ? rank + 1 : 0;
  const int to = std::string_view(op) == "$gt" ? kTypes : std::min(rank, kTypes);
  bson_t bound, any, first, cmp, second, type, types;
  BSON_APPEND_DOCUMENT_BEGIN(parent, name, &bound);
  BSON_APPEND_ARRAY_BEGIN(&bound, "$or", &any);
  BSON_APPEND_DOCUMENT_BEGIN(&any, "0", &first);
  BSON_APPEND_DOCUMENT_BEGIN(&first, "_id", &cmp);
  AppendBsonValue(&cmp, op, key);
  bson_append_document_end(&first, &cmp);
  bson_append_document_end(&any, &first);
  if (std::max(from, 1) < std::min(to, kTypes - 1)) {
    BSON_APPEND_DOCUMENT_BEGIN(&any, "1", &second);
    BSON_APPEND_DOCUMENT_BEGIN(&second, "_id", &type);
    BSON_APPEND_ARRAY_BEGIN(&type, "$type", &types);
    int n = 0;
    for (int i = from; i < to; ++i)  // FerretDB knows no minKey, maxKey alias (nor holds them)
      if (i != 0 && i != kTypes - 1) {
        const std::string index = std::to_string(n++);
        BSON_APPEND_UTF8(&types, index.c_str(), kTypeOrder[i]);
      }
    bson_append_array_end(&type, &types);
    bson_append_document_end(&second, &type);
    bson_append_document_end(&any, &second);
  }
  bson_append_array_end(&bound, &any);
  bson_append_document_end(parent, &bound);
}

// {$and: [after's bound, until's bound]}: the _ids in (after, until] in MongoDB's order,
// whatever their types.
void AppendKeyRange(bson_t* filter, const Value* after, const Value* until) {
  if (!after && !until) return;
  bson_t all;
  BSON_APPEND_ARRAY_BEGIN(filter, "$and", &all);
  int n = 0;
  if (after) AppendKeyBound(&all, std::to_string(n++).c_str(), "$gt", *after);
  if (until) AppendKeyBound(&all, std::to_string(n++).c_str(), "$lte", *until);
  bson_append_array_end(filter, &all);
}

Status MongoReader::Open() {
  if (!coll_)  // kept for the reader's life
    coll_ = mongoc_client_get_collection(src_.client(), src_.settings().database.c_str(),
                                         table_.name.c_str());
  // One find for the whole read, sorted when ordered: (cursor, _id), or _id alone by key.
  bool by_cursor = options_.incremental || options_.after.has_value();
  const std::string cur =
      options_.by_key || table_.cursor_column.empty() ? std::string("_id") : table_.cursor_column;
  bson_t filter = BSON_INITIALIZER;
  if (options_.by_key && (options_.after || options_.until)) {  // (after, until] by _id
    const Value* after =
        options_.after && !options_.after->key.empty() ? &options_.after->key[0] : nullptr;
    const Value* until =
        options_.until && !options_.until->key.empty() ? &options_.until->key[0] : nullptr;
    AppendKeyRange(&filter, after, until);
  } else if (options_.after) {
    const Position& a = *options_.after;
    if (cur == "_id" || a.key.empty()) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN(&filter, cur.c_str(), &sub);
      AppendBsonValue(&sub, "$gt", a.cursor);
      bson_append_document_end(&filter, &sub);
    } else {
      // {$or: [{cur: {$gt: c}}, {cur: c, _id: {$gt: id}}]}. Documents without the cursor
      // field (or null) sort first and {$gt: null} matches nothing: past one of them come the
      // rest of them by _id, then every other document ({cur: {$ne: null}}).
      bson_t arr, d0, d1, g0, g1;
      BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &arr);
      BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &d0);
      BSON_APPEND_DOCUMENT_BEGIN(&d0, cur.c_str(), &g0);
      if (a.cursor.is_null())
        BSON_APPEND_NULL(&g0, "$ne");
      else
        AppendBsonValue(&g0, "$gt", a.cursor);
      bson_append_document_end(&d0, &g0);
      bson_append_document_end(&arr, &d0);
      BSON_APPEND_DOCUMENT_BEGIN(&arr, "1", &d1);
      AppendBsonValue(&d1, cur, a.cursor);
      BSON_APPEND_DOCUMENT_BEGIN(&d1, "_id", &g1);
      AppendBsonValue(&g1, "$gt", a.key[0]);
      bson_append_document_end(&d1, &g1);
      bson_append_document_end(&arr, &d1);
      bson_append_array_end(&filter, &arr);
    }
  }
  bson_t opts = BSON_INITIALIZER;
  bson_t sort;
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
  if (by_cursor && cur != "_id") BSON_APPEND_INT32(&sort, cur.c_str(), 1);
  BSON_APPEND_INT32(&sort, "_id", 1);
  bson_append_document_end(&opts, &sort);
  BSON_APPEND_INT32(&opts, "batchSize", static_cast<int32_t>(options_.batch_size));
  cursor_ = mongoc_collection_find_with_opts(coll_, &filter, &opts, nullptr);
  bson_destroy(&filter);
  bson_destroy(&opts);
  in_page_ = 0;
  return Status::Ok();
}

Result<bool> MongoReader::Next(RecordBatch* batch) {
  batch->clear();
  if (done_) return false;
  const bool paged = options_.ordered();
  if (!cursor_) RETURN_IF_ERROR(Open());
  const std::string cur = table_.cursor_column.empty() ? std::string("_id") : table_.cursor_column;
  const bson_t* doc;
  // A batch ends at BATCH_SIZE documents or past kMaxBatchBsonBytes of them, whichever comes
  // first: documents run to 16 MB each, so a count alone does not bound memory.
  size_t bytes = 0;
  bool ended = false;  // the cursor has no more documents
  while (batch->rows.size() < options_.batch_size && bytes < kMaxBatchBsonBytes) {
    if (!mongoc_cursor_next(cursor_, &doc)) {
      ended = true;
      break;
    }
    bytes += doc->len;
    batch->rows.push_back({BsonToValue(doc)});
    ++in_page_;
  }
  bson_error_t error;
  if (mongoc_cursor_error(cursor_, &error))
    return src_.Error("reading collection '" + table_.name + "' failed", error);
  if (paged && !batch->rows.empty()) {
    const Document& last = batch->rows.back()[0].as<Document>();
    const Value* id = last.Find("_id");
    const Value* c = last.Find(cur);
    Position p{c ? *c : Value(Null{}), {}};
    if (options_.by_key) p = Position{Null{}, {id ? *id : Value(Null{})}};
    if (!options_.by_key && cur != "_id" && id) p.key.push_back(*id);
    options_.after = p;
    batch->last = std::move(p);
  }
  if (ended) done_ = true;
  return !batch->rows.empty();
}

}  // namespace

Result<std::unique_ptr<Source>> OpenMongoSource(const MongoSettings& settings) {
  auto src = std::make_unique<MongoSource>(settings);
  RETURN_IF_ERROR(src->Connect());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace di
