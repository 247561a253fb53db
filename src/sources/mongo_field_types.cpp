// CountFieldTypes (sources/mongo_source.h): the BSON types of one field across a collection,
// for setup to choose a DynamoDB key type. One $group by {$type: "$field"}; a server that
// refuses that (an older FerretDB) is sampled with a find instead.
#include <mongoc/mongoc.h>

#include "sources/mongo_source.h"

namespace di {
namespace {

// The aggregation: {_id: <type name>, n: <documents>} per type. False when the server
// refused it (`error` says why).
bool GroupByType(mongoc_collection_t* coll, const std::string& field, FieldTypeCounts* out,
                 bson_error_t* error) {
  const std::string path = "$" + field;
  bson_t* pipeline =
      BCON_NEW("pipeline", "[", "{", "$group", "{", "_id", "{", "$type", BCON_UTF8(path.c_str()),
               "}", "n", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]");
  mongoc_cursor_t* cursor =
      mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, nullptr, nullptr);
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) {
    bson_iter_t it;
    std::string type = "?";
    int64_t n = 0;
    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
      type = bson_iter_utf8(&it, nullptr);
    if (bson_iter_init_find(&it, doc, "n") && BSON_ITER_HOLDS_NUMBER(&it))
      n = bson_iter_as_int64(&it);
    out->counts[type] += n;
    out->documents += n;
  }
  const bool failed = mongoc_cursor_error(cursor, error);
  mongoc_cursor_destroy(cursor);
  bson_destroy(pipeline);
  return !failed;
}

// The first `sample` documents' field, each named by its type.
bool SampleTypes(mongoc_collection_t* coll, const std::string& field, int64_t sample,
                 FieldTypeCounts* out, bson_error_t* error) {
  bson_t filter = BSON_INITIALIZER;
  bson_t* opts =
      BCON_NEW("limit", BCON_INT64(sample), "projection", "{", field.c_str(), BCON_INT32(1), "}");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, opts, nullptr);
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) {
    Value d = BsonToValue(doc);
    const Value* f = d.as<Document>().Find(field);
    out->counts[f ? BsonTypeName(*f) : "missing"]++;
    out->documents++;
  }
  const bool failed = mongoc_cursor_error(cursor, error);
  mongoc_cursor_destroy(cursor);
  bson_destroy(opts);
  out->sampled = true;
  return !failed;
}

}  // namespace

Result<FieldTypeCounts> CountFieldTypes(const MongoSettings& settings,
                                        const std::string& collection, const std::string& field,
                                        int64_t sample) {
  std::string where;
  ASSIGN_OR_RETURN(mongoc_client_t * client, OpenMongoClient(settings, &where));
  mongoc_collection_t* coll =
      mongoc_client_get_collection(client, settings.database.c_str(), collection.c_str());
  FieldTypeCounts out;
  bson_error_t error;
  bool ok = GroupByType(coll, field, &out, &error);
  if (!ok) {
    out = FieldTypeCounts();
    ok = SampleTypes(coll, field, sample, &out, &error);
  }
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  if (!ok)
    return Unavailable(where + ": reading the types of " + collection + "." + field +
                       " failed: " + error.message);
  return out;
}

}  // namespace di
