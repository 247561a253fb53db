// Each of the five services of the local stack answers through the client library the
// project uses for it: libmariadb, libpq, libmongoc, hiredis, libcurl.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>
#include <mysql.h>

#include <memory>
#include <string>

#include "stack_env.h"

namespace di::testing {
namespace {

TEST(Services, MariaDbAnswersThroughLibmariadb) {
  bool connected = false;
  MySqlPtr db = ConnectMySql(&connected);
  ASSERT_TRUE(connected) << mysql_error(db.get());
  ASSERT_EQ(mysql_query(db.get(), "SELECT VERSION(), @@character_set_server"), 0);
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(db.get()),
                                                               mysql_free_result);
  MYSQL_ROW row = mysql_fetch_row(res.get());
  ASSERT_NE(row, nullptr);
  EXPECT_NE(std::string(row[0]).find("MariaDB"), std::string::npos) << row[0];
  EXPECT_STREQ(row[1], "utf8mb4");
}

TEST(Services, PostgresAnswersThroughLibpq) {
  PgPtr conn = ConnectPg();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_GE(PQserverVersion(conn.get()), 150000);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), "SHOW server_encoding"),
                                                  PQclear);
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "UTF8");
}

TEST(Services, MongoWireProtocolAnswersThroughLibmongoc) {
  mongoc_init();
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(StackConfig().mongo.uri.c_str(), &error);
  ASSERT_NE(uri, nullptr) << error.message;
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  bson_t reply;
  bool ok = mongoc_client_command_simple(client, "admin", ping, nullptr, &reply, &error);
  EXPECT_TRUE(ok) << error.message;
  bson_iter_t it;
  EXPECT_TRUE(bson_iter_init_find(&it, &reply, "ok"));
  EXPECT_EQ(bson_iter_as_double(&it), 1.0);
  bson_destroy(&reply);
  bson_destroy(ping);
  mongoc_client_destroy(client);
  mongoc_uri_destroy(uri);
  mongoc_cleanup();
}

TEST(Services, RedisAnswersThroughHiredis) {
  // REDIS_URL is redis://127.0.0.1:<port>/0 on the stack.
  const std::string& url = StackConfig().schedule.redis_url;
  ASSERT_FALSE(url.empty()) << "REDIS_URL is not set: run the tests through make test";
  std::string hostport = url.substr(url.find("://") + 3);
  hostport = hostport.substr(0, hostport.find('/'));
  std::string host = hostport.substr(0, hostport.find(':'));
  int port = std::stoi(hostport.substr(hostport.find(':') + 1));
  std::unique_ptr<redisContext, decltype(&redisFree)> ctx(redisConnect(host.c_str(), port),
                                                          redisFree);
  ASSERT_TRUE(ctx && !ctx->err) << (ctx ? ctx->errstr : "no context");
  auto cmd = [&](const char* fmt, const char* a, const char* b) {
    return std::unique_ptr<redisReply, decltype(&freeReplyObject)>(
        static_cast<redisReply*>(redisCommand(ctx.get(), fmt, a, b)), freeReplyObject);
  };
  auto set = cmd("SET %s %s PX 5000", "di:test:key", "ñandú 🎬");
  ASSERT_TRUE(set);
  EXPECT_STREQ(set->str, "OK");
  auto get = cmd("GET %s%s", "di:test:", "key");
  ASSERT_TRUE(get);
  ASSERT_EQ(get->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(get->str, get->len), "ñandú 🎬");
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Unsigned requests: moto (without request authentication) answers them; signing arrives
// with the AWS layer. moto picks the service from the credential scope of the Authorization
// header, so the DynamoDB call carries one with a dummy signature.
std::string Request(const std::string& url, const char* target, long* code) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string body;
  curl_slist* headers = nullptr;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  if (target) {
    headers = curl_slist_append(headers, (std::string("X-Amz-Target: ") + target).c_str());
    headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.0");
    headers = curl_slist_append(
        headers,
        "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/"
        "aws4_request, SignedHeaders=host, Signature=0");
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "{}");
  }
  CURLcode rc = curl_easy_perform(curl.get());
  curl_slist_free_all(headers);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc) << " for " << url;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, code);
  return body;
}

TEST(Services, MotoS3AndDynamoDbAnswerThroughLibcurl) {
  const std::string& endpoint = StackConfig().aws.endpoint_url;
  ASSERT_FALSE(endpoint.empty()) << "AWS_ENDPOINT_URL is not set: run through make test";
  long code = 0;
  std::string s3 = Request(endpoint + "/", nullptr, &code);
  EXPECT_EQ(code, 200);
  EXPECT_NE(s3.find("ListAllMyBucketsResult"), std::string::npos) << s3;
  std::string ddb = Request(endpoint + "/", "DynamoDB_20120810.ListTables", &code);
  EXPECT_EQ(code, 200);
  EXPECT_NE(ddb.find("TableNames"), std::string::npos) << ddb;
}

}  // namespace
}  // namespace di::testing
