// The functions of libmongoc, libbson, libpq and libcurl this program (and its tests) call,
// defined here so the binary needs none of those libraries at start-up (core/lazy_lib.h).
// Each looks its library's function up on first call and calls it.
//
// A new call into one of these libraries fails to link ("undefined reference to ...") until
// its line is added here, with the parameter list of its header: a list that differs from
// the header's does not compile.
#include <curl/curl.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>

#include <cstdarg>

#include "core/lazy_lib.h"

// `real`, the library's function: bound once (thread-safe), then each call is one indirect
// jump.
#define DI_REAL(library, name) \
  static const auto real = reinterpret_cast<decltype(&name)>(library.Symbol(#name))
#define DI_LAZY(library, ret, name, params, args) \
  ret name params {                               \
    DI_REAL(library, name);                       \
    return real args;                             \
  }

using di::kBsonLibrary;
using di::kCurlLibrary;
using di::kMongocLibrary;
using di::kPqLibrary;

extern "C" {

// libpq
DI_LAZY(kPqLibrary, void, PQclear, (PGresult * res), (res))
DI_LAZY(kPqLibrary, PGconn*, PQconnectdb, (const char* conninfo), (conninfo))
DI_LAZY(kPqLibrary, PGconn*, PQconnectdbParams,
        (const char* const* keywords, const char* const* values, int expand_dbname),
        (keywords, values, expand_dbname))
DI_LAZY(kPqLibrary, char*, PQerrorMessage, (const PGconn* conn), (conn))
DI_LAZY(kPqLibrary, PGresult*, PQexec, (PGconn * conn, const char* query), (conn, query))
DI_LAZY(kPqLibrary, PGresult*, PQexecParams,
        (PGconn * conn, const char* command, int nParams, const Oid* paramTypes,
         const char* const* paramValues, const int* paramLengths, const int* paramFormats,
         int resultFormat),
        (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
DI_LAZY(kPqLibrary, int, PQsendQueryParams,
        (PGconn * conn, const char* command, int nParams, const Oid* paramTypes,
         const char* const* paramValues, const int* paramLengths, const int* paramFormats,
         int resultFormat),
        (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
DI_LAZY(kPqLibrary, void, PQfinish, (PGconn * conn), (conn))
DI_LAZY(kPqLibrary, int, PQconsumeInput, (PGconn * conn), (conn))
DI_LAZY(kPqLibrary, int, PQflush, (PGconn * conn), (conn))
DI_LAZY(kPqLibrary, void, PQfreemem, (void* ptr), (ptr))
DI_LAZY(kPqLibrary, int, PQsocket, (const PGconn* conn), (conn))
DI_LAZY(kPqLibrary, int, PQgetCopyData, (PGconn * conn, char** buffer, int async),
        (conn, buffer, async))
DI_LAZY(kPqLibrary, PGresult*, PQgetResult, (PGconn * conn), (conn))
DI_LAZY(kPqLibrary, int, PQgetisnull, (const PGresult* res, int tup_num, int field_num),
        (res, tup_num, field_num))
DI_LAZY(kPqLibrary, int, PQgetlength, (const PGresult* res, int tup_num, int field_num),
        (res, tup_num, field_num))
DI_LAZY(kPqLibrary, char*, PQgetvalue, (const PGresult* res, int tup_num, int field_num),
        (res, tup_num, field_num))
DI_LAZY(kPqLibrary, int, PQnfields, (const PGresult* res), (res))
DI_LAZY(kPqLibrary, int, PQntuples, (const PGresult* res), (res))
DI_LAZY(kPqLibrary, char*, PQcmdTuples, (PGresult * res), (res))
DI_LAZY(kPqLibrary, int, PQputCopyData, (PGconn * conn, const char* buffer, int nbytes),
        (conn, buffer, nbytes))
DI_LAZY(kPqLibrary, int, PQputCopyEnd, (PGconn * conn, const char* errormsg), (conn, errormsg))
DI_LAZY(kPqLibrary, int, PQrequestCancel, (PGconn * conn), (conn))
DI_LAZY(kPqLibrary, char*, PQresultErrorMessage, (const PGresult* res), (res))
DI_LAZY(kPqLibrary, ExecStatusType, PQresultStatus, (const PGresult* res), (res))
DI_LAZY(kPqLibrary, int, PQserverVersion, (const PGconn* conn), (conn))
DI_LAZY(kPqLibrary, ConnStatusType, PQstatus, (const PGconn* conn), (conn))

// libbson
DI_LAZY(kBsonLibrary, bool, bson_append_array_begin,
        (bson_t * bson, const char* key, int key_length, bson_t* child),
        (bson, key, key_length, child))
DI_LAZY(kBsonLibrary, bool, bson_append_array_end, (bson_t * bson, bson_t* child), (bson, child))
DI_LAZY(kBsonLibrary, bool, bson_append_binary,
        (bson_t * bson, const char* key, int key_length, bson_subtype_t subtype,
         const uint8_t* binary, uint32_t length),
        (bson, key, key_length, subtype, binary, length))
DI_LAZY(kBsonLibrary, bool, bson_append_bool,
        (bson_t * bson, const char* key, int key_length, bool value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_date_time,
        (bson_t * bson, const char* key, int key_length, int64_t value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_decimal128,
        (bson_t * bson, const char* key, int key_length, const bson_decimal128_t* value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_document_begin,
        (bson_t * bson, const char* key, int key_length, bson_t* child),
        (bson, key, key_length, child))
DI_LAZY(kBsonLibrary, bool, bson_append_document_end, (bson_t * bson, bson_t* child), (bson, child))
DI_LAZY(kBsonLibrary, bool, bson_append_double,
        (bson_t * bson, const char* key, int key_length, double value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_int32,
        (bson_t * bson, const char* key, int key_length, int32_t value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_int64,
        (bson_t * bson, const char* key, int key_length, int64_t value),
        (bson, key, key_length, value))
DI_LAZY(kBsonLibrary, bool, bson_append_maxkey, (bson_t * bson, const char* key, int key_length),
        (bson, key, key_length))
DI_LAZY(kBsonLibrary, bool, bson_append_minkey, (bson_t * bson, const char* key, int key_length),
        (bson, key, key_length))
DI_LAZY(kBsonLibrary, bool, bson_append_null, (bson_t * bson, const char* key, int key_length),
        (bson, key, key_length))
DI_LAZY(kBsonLibrary, bool, bson_append_oid,
        (bson_t * bson, const char* key, int key_length, const bson_oid_t* oid),
        (bson, key, key_length, oid))
DI_LAZY(kBsonLibrary, bool, bson_append_regex,
        (bson_t * bson, const char* key, int key_length, const char* regex, const char* options),
        (bson, key, key_length, regex, options))
DI_LAZY(kBsonLibrary, bool, bson_append_timestamp,
        (bson_t * bson, const char* key, int key_length, uint32_t timestamp, uint32_t increment),
        (bson, key, key_length, timestamp, increment))
DI_LAZY(kBsonLibrary, bool, bson_append_utf8,
        (bson_t * bson, const char* key, int key_length, const char* value, int length),
        (bson, key, key_length, value, length))
DI_LAZY(kBsonLibrary, char*, bson_as_canonical_extended_json, (const bson_t* bson, size_t* length),
        (bson, length))
DI_LAZY(kBsonLibrary, const char*, bson_bcon_magic, (), ())
DI_LAZY(kBsonLibrary, bool, bson_decimal128_from_string,
        (const char* string, bson_decimal128_t* dec), (string, dec))
DI_LAZY(kBsonLibrary, void, bson_decimal128_to_string, (const bson_decimal128_t* dec, char* str),
        (dec, str))
DI_LAZY(kBsonLibrary, void, bson_destroy, (bson_t * bson), (bson))
DI_LAZY(kBsonLibrary, void, bson_free, (void* mem), (mem))
DI_LAZY(kBsonLibrary, const uint8_t*, bson_get_data, (const bson_t* bson), (bson))
DI_LAZY(kBsonLibrary, bool, bson_has_field, (const bson_t* bson, const char* key), (bson, key))
DI_LAZY(kBsonLibrary, double, bson_iter_as_double, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, int64_t, bson_iter_as_int64, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, void, bson_iter_binary,
        (const bson_iter_t* iter, bson_subtype_t* subtype, uint32_t* binary_len,
         const uint8_t** binary),
        (iter, subtype, binary_len, binary))
DI_LAZY(kBsonLibrary, bool, bson_iter_bool, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, const char*, bson_iter_code, (const bson_iter_t* iter, uint32_t* length),
        (iter, length))
DI_LAZY(kBsonLibrary, int64_t, bson_iter_date_time, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, bool, bson_iter_decimal128, (const bson_iter_t* iter, bson_decimal128_t* dec),
        (iter, dec))
DI_LAZY(kBsonLibrary, double, bson_iter_double, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, bool, bson_iter_init, (bson_iter_t * iter, const bson_t* bson), (iter, bson))
DI_LAZY(kBsonLibrary, bool, bson_iter_init_find,
        (bson_iter_t * iter, const bson_t* bson, const char* key), (iter, bson, key))
DI_LAZY(kBsonLibrary, int32_t, bson_iter_int32, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, int64_t, bson_iter_int64, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, const char*, bson_iter_key, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, uint32_t, bson_iter_key_len, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, bool, bson_iter_next, (bson_iter_t * iter), (iter))
DI_LAZY(kBsonLibrary, const bson_oid_t*, bson_iter_oid, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, bool, bson_iter_recurse, (const bson_iter_t* iter, bson_iter_t* child),
        (iter, child))
DI_LAZY(kBsonLibrary, const char*, bson_iter_regex, (const bson_iter_t* iter, const char** options),
        (iter, options))
DI_LAZY(kBsonLibrary, const char*, bson_iter_symbol, (const bson_iter_t* iter, uint32_t* length),
        (iter, length))
DI_LAZY(kBsonLibrary, void, bson_iter_timestamp,
        (const bson_iter_t* iter, uint32_t* timestamp, uint32_t* increment),
        (iter, timestamp, increment))
DI_LAZY(kBsonLibrary, bson_type_t, bson_iter_type, (const bson_iter_t* iter), (iter))
DI_LAZY(kBsonLibrary, const char*, bson_iter_utf8, (const bson_iter_t* iter, uint32_t* length),
        (iter, length))
DI_LAZY(kBsonLibrary, void*, bson_malloc0, (size_t num_bytes), (num_bytes))
DI_LAZY(kBsonLibrary, bson_t*, bson_new, (), ())
DI_LAZY(kBsonLibrary, bson_t*, bson_new_from_json,
        (const uint8_t* data, ssize_t len, bson_error_t* error), (data, len, error))
DI_LAZY(kBsonLibrary, void, bson_oid_init_from_string, (bson_oid_t * oid, const char* str),
        (oid, str))
DI_LAZY(kBsonLibrary, void, bson_oid_to_string, (const bson_oid_t* oid, char str[25]), (oid, str))
DI_LAZY(kBsonLibrary, void, bson_strfreev, (char** strv), (strv))

// libmongoc
DI_LAZY(kMongocLibrary, void, mongoc_cleanup, (), ())
DI_LAZY(kMongocLibrary, bool, mongoc_client_command_simple,
        (mongoc_client_t * client, const char* db_name, const bson_t* command,
         const mongoc_read_prefs_t* read_prefs, bson_t* reply, bson_error_t* error),
        (client, db_name, command, read_prefs, reply, error))
DI_LAZY(kMongocLibrary, void, mongoc_client_destroy, (mongoc_client_t * client), (client))
DI_LAZY(kMongocLibrary, mongoc_collection_t*, mongoc_client_get_collection,
        (mongoc_client_t * client, const char* db, const char* collection),
        (client, db, collection))
DI_LAZY(kMongocLibrary, mongoc_database_t*, mongoc_client_get_database,
        (mongoc_client_t * client, const char* name), (client, name))
DI_LAZY(kMongocLibrary, mongoc_client_t*, mongoc_client_new, (const char* uri_string), (uri_string))
DI_LAZY(kMongocLibrary, mongoc_client_t*, mongoc_client_new_from_uri, (const mongoc_uri_t* uri),
        (uri))
DI_LAZY(kMongocLibrary, bool, mongoc_client_set_appname,
        (mongoc_client_t * client, const char* appname), (client, appname))
DI_LAZY(kMongocLibrary, mongoc_cursor_t*, mongoc_collection_aggregate,
        (mongoc_collection_t * collection, mongoc_query_flags_t flags, const bson_t* pipeline,
         const bson_t* opts, const mongoc_read_prefs_t* read_prefs),
        (collection, flags, pipeline, opts, read_prefs))
DI_LAZY(kMongocLibrary, int64_t, mongoc_collection_count_documents,
        (mongoc_collection_t * coll, const bson_t* filter, const bson_t* opts,
         const mongoc_read_prefs_t* read_prefs, bson_t* reply, bson_error_t* error),
        (coll, filter, opts, read_prefs, reply, error))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_delete_one,
        (mongoc_collection_t * collection, const bson_t* selector, const bson_t* opts,
         bson_t* reply, bson_error_t* error),
        (collection, selector, opts, reply, error))
DI_LAZY(kMongocLibrary, void, mongoc_collection_destroy, (mongoc_collection_t * collection),
        (collection))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_drop,
        (mongoc_collection_t * collection, bson_error_t* error), (collection, error))
DI_LAZY(kMongocLibrary, int64_t, mongoc_collection_estimated_document_count,
        (mongoc_collection_t * coll, const bson_t* opts, const mongoc_read_prefs_t* read_prefs,
         bson_t* reply, bson_error_t* error),
        (coll, opts, read_prefs, reply, error))
DI_LAZY(kMongocLibrary, mongoc_cursor_t*, mongoc_collection_find_with_opts,
        (mongoc_collection_t * collection, const bson_t* filter, const bson_t* opts,
         const mongoc_read_prefs_t* read_prefs),
        (collection, filter, opts, read_prefs))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_delete_many,
        (mongoc_collection_t * collection, const bson_t* selector, const bson_t* opts,
         bson_t* reply, bson_error_t* error),
        (collection, selector, opts, reply, error))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_insert_many,
        (mongoc_collection_t * collection, const bson_t** documents, size_t n_documents,
         const bson_t* opts, bson_t* reply, bson_error_t* error),
        (collection, documents, n_documents, opts, reply, error))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_insert_one,
        (mongoc_collection_t * collection, const bson_t* document, const bson_t* opts,
         bson_t* reply, bson_error_t* error),
        (collection, document, opts, reply, error))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_rename,
        (mongoc_collection_t * collection, const char* new_db, const char* new_name,
         bool drop_target_before_rename, bson_error_t* error),
        (collection, new_db, new_name, drop_target_before_rename, error))
DI_LAZY(kMongocLibrary, bool, mongoc_collection_update_one,
        (mongoc_collection_t * collection, const bson_t* selector, const bson_t* update,
         const bson_t* opts, bson_t* reply, bson_error_t* error),
        (collection, selector, update, opts, reply, error))
DI_LAZY(kMongocLibrary, void, mongoc_cursor_destroy, (mongoc_cursor_t * cursor), (cursor))
DI_LAZY(kMongocLibrary, bool, mongoc_cursor_error, (mongoc_cursor_t * cursor, bson_error_t* error),
        (cursor, error))
DI_LAZY(kMongocLibrary, bool, mongoc_cursor_next, (mongoc_cursor_t * cursor, const bson_t** bson),
        (cursor, bson))
DI_LAZY(kMongocLibrary, void, mongoc_database_destroy, (mongoc_database_t * database), (database))
DI_LAZY(kMongocLibrary, bool, mongoc_database_drop,
        (mongoc_database_t * database, bson_error_t* error), (database, error))
DI_LAZY(kMongocLibrary, bool, mongoc_database_has_collection,
        (mongoc_database_t * database, const char* name, bson_error_t* error),
        (database, name, error))
DI_LAZY(kMongocLibrary, char**, mongoc_database_get_collection_names_with_opts,
        (mongoc_database_t * database, const bson_t* opts, bson_error_t* error),
        (database, opts, error))
DI_LAZY(kMongocLibrary, void, mongoc_init, (), ())
DI_LAZY(kMongocLibrary, void, mongoc_log_set_handler, (mongoc_log_func_t log_func, void* user_data),
        (log_func, user_data))
DI_LAZY(kMongocLibrary, void, mongoc_uri_destroy, (mongoc_uri_t * uri), (uri))
DI_LAZY(kMongocLibrary, const mongoc_host_list_t*, mongoc_uri_get_hosts, (const mongoc_uri_t* uri),
        (uri))
DI_LAZY(kMongocLibrary, bool, mongoc_uri_has_option, (const mongoc_uri_t* uri, const char* key),
        (uri, key))
DI_LAZY(kMongocLibrary, mongoc_uri_t*, mongoc_uri_new_with_error,
        (const char* uri_string, bson_error_t* error), (uri_string, error))
DI_LAZY(kMongocLibrary, bool, mongoc_uri_set_option_as_int32,
        (mongoc_uri_t * uri, const char* option, int32_t value), (uri, option, value))

// libcurl
DI_LAZY(kCurlLibrary, void, curl_easy_cleanup, (CURL * curl), (curl))
DI_LAZY(kCurlLibrary, CURL*, curl_easy_init, (), ())
DI_LAZY(kCurlLibrary, CURLcode, curl_easy_perform, (CURL * curl), (curl))
DI_LAZY(kCurlLibrary, void, curl_easy_reset, (CURL * curl), (curl))
DI_LAZY(kCurlLibrary, const char*, curl_easy_strerror, (CURLcode code), (code))
DI_LAZY(kCurlLibrary, CURLcode, curl_global_init, (long flags), (flags))
DI_LAZY(kCurlLibrary, struct curl_slist*, curl_slist_append,
        (struct curl_slist * list, const char* data), (list, data))
DI_LAZY(kCurlLibrary, void, curl_slist_free_all, (struct curl_slist * list), (list))

DI_LAZY(kBsonLibrary, void, bcon_append_ctx_init, (bcon_append_ctx_t * ctx), (ctx))
DI_LAZY(kBsonLibrary, void, bcon_append_ctx_va,
        (bson_t * bson, bcon_append_ctx_t* ctx, va_list* va), (bson, ctx, va))

// The variadic ones, forwarded the way the libraries read their arguments.

// BCON_NEW(...): what libbson's own bcon_new does, on its exported pieces.
bson_t* bcon_new(void* unused, ...) {
  bcon_append_ctx_t ctx;
  bcon_append_ctx_init(&ctx);
  bson_t* bson = bson_new();
  va_list ap;
  va_start(ap, unused);
  bcon_append_ctx_va(bson, &ctx, &ap);
  va_end(ap);
  return bson;
}

// libcurl declares these two with an enum before the `...`, and the shims must keep its
// declarations; clang warns that va_start after a parameter of promoted type is undefined in
// general. The enums are int-sized, passed as int on every target we build for, and read
// back by va_arg as what libcurl reads.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

// One argument whose type the option's number gives (CURLOPTTYPE_*), as libcurl reads it.
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  DI_REAL(kCurlLibrary, curl_easy_setopt);
  CURLcode rc;
  va_list ap;
  va_start(ap, option);
  const int type = option / 10000 * 10000;
  if (type == CURLOPTTYPE_LONG) {
    rc = real(curl, option, va_arg(ap, long));
  } else if (type == CURLOPTTYPE_OFF_T) {
    rc = real(curl, option, va_arg(ap, curl_off_t));
  } else if (type == CURLOPTTYPE_FUNCTIONPOINT) {
    rc = real(curl, option, va_arg(ap, void (*)()));
  } else {  // object pointers, strings, slists, blobs
    rc = real(curl, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

// One pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  DI_REAL(kCurlLibrary, curl_easy_getinfo);
  va_list ap;
  va_start(ap, info);
  void* answer = va_arg(ap, void*);
  va_end(ap);
  return real(curl, info, answer);
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // extern "C"
