// The client libraries opened on first use: a missing library is an error naming it and its
// package, and the shims reach the real functions, the variadic ones with their argument.
#include "core/lazy_lib.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <mongoc/mongoc.h>
#include <zlib.h>

#include <string>

namespace di {
namespace {

TEST(LazyLibrary, MissingLibraryIsAnErrorNamingItAndThePackage) {
  LazyLibrary lib("libdi-no-such-library.so.7", "a test library", "di-no-such-package");
  Status s = lib.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("cannot load libdi-no-such-library.so.7 (a test library)"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("install the package di-no-such-package"), std::string::npos);
  EXPECT_FALSE(lib.Load().ok());  // asked again: the same answer, no second attempt
}

TEST(LazyLibrary, PresentLibraryGivesItsFunctions) {
  LazyLibrary z("libz.so.1", "zlib", "zlib1g");
  ASSERT_TRUE(z.Load().ok());
  auto version = reinterpret_cast<const char* (*)()>(z.Symbol("zlibVersion"));
  ASSERT_NE(version, nullptr);
  EXPECT_STREQ(version(), zlibVersion());
}

TEST(LazyLibraryDeathTest, MissingFunctionEndsTheProcessNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  LazyLibrary z("libz.so.1", "zlib", "zlib1g");
  EXPECT_EXIT(z.Symbol("di_no_such_function"), ::testing::ExitedWithCode(70),
              "libz.so.1 \\(zlib\\) has no function di_no_such_function.*upgrade the package "
              "zlib1g");
}

TEST(LazyLibrary, DriverLibrariesLoad) {
  for (LazyLibrary* lib : {&kMongocLibrary, &kBsonLibrary, &kPqLibrary, &kCurlLibrary})
    EXPECT_TRUE(lib->Load().ok()) << lib->Load().message();
}

// BCON_NEW is variadic: the shim rebuilds it from libbson's exported pieces.
TEST(LazyLibrary, BconNewBuildsTheDocument) {
  bson_t* doc = BCON_NEW("a", BCON_INT32(1), "b", "{", "c", BCON_UTF8("x"), "}", "d",
                         BCON_DOUBLE(2.5), "e", BCON_INT64(-7));
  ASSERT_NE(doc, nullptr);
  char* json = bson_as_canonical_extended_json(doc, nullptr);
  EXPECT_STREQ(json,
               "{ \"a\" : { \"$numberInt\" : \"1\" }, \"b\" : { \"c\" : \"x\" }, \"d\" : { "
               "\"$numberDouble\" : \"2.5\" }, \"e\" : { \"$numberLong\" : \"-7\" } }");
  bson_free(json);
  bson_destroy(doc);
}

size_t Discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

// curl_easy_setopt takes one argument whose type the option gives: a long, a curl_off_t, a
// function or a pointer; curl_easy_getinfo a pointer. Each reaches libcurl as passed.
TEST(LazyLibrary, CurlVariadicOptionsReachLibcurl) {
  CURL* h = curl_easy_init();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:9/x"), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(1) << 40),
            CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Discard), CURLE_OK);
  // A value libcurl refuses shows the long really arrived as that long.
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_MAXREDIRS, -2L), CURLE_BAD_FUNCTION_ARGUMENT);
  EXPECT_EQ(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(-2)),
            CURLE_BAD_FUNCTION_ARGUMENT);
  char* url = nullptr;
  ASSERT_EQ(curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
  EXPECT_STREQ(url, "http://127.0.0.1:9/x");
  long code = -1;
  ASSERT_EQ(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);
  EXPECT_STREQ(curl_easy_strerror(CURLE_OK), "No error");
  curl_easy_cleanup(h);
}

TEST(LazyLibrary, PqReportsABadConnectionString) {
  PGconn* conn = PQconnectdb("port=notaport");
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(PQstatus(conn), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(conn)).find("port"), std::string::npos);
  PQfinish(conn);
}

}  // namespace
}  // namespace di
