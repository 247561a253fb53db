// The MongoDB database sink of restore (sinks/database_sink.h): backup records (canonical
// Extended JSON documents) inserted with insertMany, a new or replacing collection staged and
// renamed.
#include <memory>

#include "sinks/database_sink.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

// MongoDB: insertMany of the canonical Extended JSON documents (every BSON type comes
// back); a new or replacing collection is loaded as a staging one and renamed into place.
class MongoSink : public DatabaseSink {
 public:
  MongoSink(MongoSettings s, std::string collection)
      : s_(std::move(s)), name_(std::move(collection)) {}
  ~MongoSink() override {
    if (open()) Abort();
    if (into_) mongoc_collection_destroy(into_);
    if (client_) mongoc_client_destroy(client_);
  }
  Status Connect() {
    ASSIGN_OR_RETURN(client_, OpenMongoClient(s_, &where_));
    return Status::Ok();
  }
  std::string name() const override { return where_ + " collection " + name_; }
  Result<std::optional<std::vector<std::string>>> Columns() override {
    mongoc_database_t* db = mongoc_client_get_database(client_, s_.database.c_str());
    bson_error_t error;
    char** names = mongoc_database_get_collection_names_with_opts(db, nullptr, &error);
    mongoc_database_destroy(db);
    if (!names) return Unavailable(name() + ": " + error.message);
    bool found = false;
    for (char** n = names; *n; ++n) found = found || name_ == *n;
    bson_strfreev(names);
    if (!found) return std::optional<std::vector<std::string>>();
    return std::optional<std::vector<std::string>>(std::vector<std::string>{});
  }
  Result<bool> HasRows() override {
    mongoc_collection_t* c =
        mongoc_client_get_collection(client_, s_.database.c_str(), name_.c_str());
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(c, &filter, nullptr, nullptr, nullptr, &error);
    mongoc_collection_destroy(c);
    if (n < 0) return Unavailable(name() + ": " + error.message);
    return n > 0;
  }
  // A new or replacing collection is staged as `<collection>__di_restore`.
  Status Begin() override {
    staged_ = mode_.create || mode_.replace;
    replace_ = mode_.replace;
    std::string into = staged_ ? name_ + "__di_restore" : name_;
    into_ = mongoc_client_get_collection(client_, s_.database.c_str(), into.c_str());
    if (staged_) {
      bson_error_t error;
      if (!mongoc_collection_drop(into_, &error) &&
          std::string(error.message).find("not found") == std::string::npos && error.code != 26)
        return Unavailable(name() + ": " + error.message);
    }
    return Status::Ok();
  }
  Status Commit() override {
    if (!staged_) return Status::Ok();
    bson_error_t error;
    if (!mongoc_collection_rename(into_, s_.database.c_str(), name_.c_str(), replace_, &error))
      return Unavailable(name() +
                         ": renaming the restored collection into place failed: " + error.message);
    return Status::Ok();
  }
  // The staging collection dropped; an append stays as far as it went (AllOrNothing).
  void Abort() override {
    Closed();
    bson_error_t error;
    if (staged_ && into_) (void)mongoc_collection_drop(into_, &error);
  }
  // Appending to an existing collection writes it directly: no transaction to undo.
  bool AllOrNothing(LoadMode mode) const override { return mode.create || mode.replace; }

 private:
  Status Load(const std::vector<std::string_view>& lines) override {
    // A plain array: bson_t's alignment attribute does not survive a template argument.
    const bson_t** docs =
        static_cast<const bson_t**>(bson_malloc0(sizeof(bson_t*) * (lines.size() + 1)));
    size_t n = 0;
    Status s = Status::Ok();
    for (auto line : lines) {
      bson_error_t error;
      bson_t* d = bson_new_from_json(reinterpret_cast<const uint8_t*>(line.data()),
                                     static_cast<ssize_t>(line.size()), &error);
      if (!d) {
        s = Corruption("a backup line is not Extended JSON: " + std::string(error.message));
        break;
      }
      docs[n++] = d;
    }
    if (s.ok() && n > 0) {
      bson_error_t error;
      bson_t reply;
      // Documents go back with every key as stored: the driver's own checks (no empty key,
      // none with '.' or '$') are off; what the server refuses, it says.
      bson_t* opts = bson_new();
      BSON_APPEND_BOOL(opts, "validate", false);
      if (!mongoc_collection_insert_many(into_, docs, n, opts, &reply, &error))
        s = Unavailable(name() + ": insertMany failed: " + error.message);
      bson_destroy(opts);
      bson_destroy(&reply);
    }
    for (size_t i = 0; i < n; ++i) bson_destroy(const_cast<bson_t*>(docs[i]));
    bson_free(docs);
    return s;
  }

  MongoSettings s_;
  std::string name_, where_;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* into_ = nullptr;
  bool staged_ = false, replace_ = false;
};

}  // namespace

Result<std::unique_ptr<DatabaseSink>> ConnectMongoSink(const MongoSettings& s,
                                                       const std::string& table) {
  auto t = std::make_unique<MongoSink>(s, table);
  RETURN_IF_ERROR(t->Connect());
  return std::unique_ptr<DatabaseSink>(std::move(t));
}

}  // namespace di
