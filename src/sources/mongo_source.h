// MongoDB source on libmongoc: a find cursor with a batch size, documents converted to
// Document values that keep every BSON type (ObjectId, Int32/Int64, Double, Decimal128,
// Date, Binary with subtype, Timestamp, Regex, MinKey/MaxKey, nested documents, arrays).
// Incremental reads page on (cursor field, _id); a collection whose documents lack the
// cursor field pages on _id alone (the ObjectId's time). Not thread-safe: one per worker.
#pragma once

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "sources/source.h"

namespace di {

Result<std::unique_ptr<Source>> OpenMongoSource(const MongoSettings& settings);

// A connected client (pinged), the driver initialised once; `where` names the server and
// database for messages. The caller destroys it.
Result<mongoc_client_t*> OpenMongoClient(const MongoSettings& settings, std::string* where);

// The BSON types `field` has in `collection` of `settings.database`, by MongoDB's $type name
// ("int", "string", "objectId"...; "missing" where a document lacks it) with how many
// documents have each: every document, grouped by the server; where the server cannot group
// by type, the first `sample` documents it gives (`sampled` then says so).
struct FieldTypeCounts {
  std::map<std::string, int64_t> counts;
  int64_t documents = 0;
  bool sampled = false;
};
Result<FieldTypeCounts> CountFieldTypes(const MongoSettings& settings,
                                        const std::string& collection, const std::string& field,
                                        int64_t sample);

// BSON document -> Document value, and back (for restore and for building queries).
Value BsonToValue(const bson_t* doc);
// Appends `v` under `key` to `doc`; false when the value cannot be BSON.
bool AppendBsonValue(bson_t* doc, std::string_view key, const Value& v);

}  // namespace di
