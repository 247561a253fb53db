// MongoDB source on libmongoc: a find cursor with a batch size, documents converted to
// Document values that keep every BSON type (ObjectId, Int32/Int64, Double, Decimal128,
// Date, Binary with subtype, Timestamp, Regex, MinKey/MaxKey, nested documents, arrays).
// Incremental reads page on (cursor field, _id); a collection whose documents lack the
// cursor field pages on _id alone (the ObjectId's time). Not thread-safe: one per worker.
#pragma once

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <memory>

#include "config/config.h"
#include "sources/source.h"

namespace di {

Result<std::unique_ptr<Source>> OpenMongoSource(const MongoSettings& settings);

// A connected client (pinged), the driver initialised once; `where` names the server and
// database for messages. The caller destroys it.
Result<mongoc_client_t*> OpenMongoClient(const MongoSettings& settings, std::string* where);

// BSON document -> Document value, and back (for restore and for building queries).
Value BsonToValue(const bson_t* doc);
// Appends `v` under `key` to `doc`; false when the value cannot be BSON.
bool AppendBsonValue(bson_t* doc, std::string_view key, const Value& v);

}  // namespace di
