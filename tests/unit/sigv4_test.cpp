// The AWS SigV4 test suite (../shared/testdata/sigv4/v4, header signing): every case's
// canonical request, string to sign, signature and Authorization header must match.
#include "aws/sigv4.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aws/crypto.h"
#include "core/strings.h"

namespace di::aws {
namespace {

namespace fs = std::filesystem;

fs::path TestDataDir() {
  const char* dir = std::getenv("TESTDATA_DIR");
  return dir && *dir ? fs::path(dir) : fs::path(DI_SOURCE_DIR) / ".." / "shared" / "testdata";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Parses the suite's request.txt: request line, headers (a line starting with white space
// continues the previous value), blank line, body.
HttpRequest ParseRequest(const std::string& text) {
  HttpRequest r;
  size_t pos = text.find('\n');
  std::string_view line(text.data(), pos);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  r.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    for (std::string_view kv : Split(target.substr(q + 1), '&')) {
      size_t eq = kv.find('=');
      r.query.emplace_back(UriDecode(kv.substr(0, eq)),
                           eq == std::string_view::npos ? "" : UriDecode(kv.substr(eq + 1)));
    }
  }
  while (pos != std::string::npos && pos + 1 < text.size()) {
    size_t next = text.find('\n', pos + 1);
    std::string_view l(text.data() + pos + 1,
                       (next == std::string::npos ? text.size() : next) - pos - 1);
    pos = next;
    if (l.empty()) {
      if (pos != std::string::npos) r.body = text.substr(pos + 1);
      break;
    }
    if (l.front() == ' ' || l.front() == '\t') {
      r.headers.back().value += "\n" + std::string(l);
      continue;
    }
    size_t colon = l.find(':');
    r.headers.push_back({std::string(l.substr(0, colon)), std::string(l.substr(colon + 1))});
  }
  return r;
}

std::chrono::system_clock::time_point ParseTime(const std::string& iso) {
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(SigV4, AwsTestSuiteHeaderSigning) {
  fs::path suite = TestDataDir() / "sigv4" / "v4";
  if (!fs::is_directory(suite)) GTEST_SKIP() << "SigV4 test suite not found at " << suite;
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(suite))
    if (e.is_directory()) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  ASSERT_EQ(cases.size(), 38u);  // the whole suite; none skipped
  for (const fs::path& dir : cases) {
    SCOPED_TRACE(dir.filename().string());
    auto ctx = nlohmann::json::parse(ReadFile(dir / "context.json"));
    HttpRequest req = ParseRequest(ReadFile(dir / "request.txt"));
    Credentials creds{ctx["credentials"]["access_key_id"], ctx["credentials"]["secret_access_key"],
                      ctx["credentials"].value("token", "")};
    SigningOptions opts;
    opts.region = ctx["region"];
    opts.service = ctx["service"];
    opts.time = ParseTime(ctx["timestamp"]);
    opts.normalize_path = ctx["normalize"];
    opts.add_content_sha256_header = ctx["sign_body"];
    opts.sign_session_token = !ctx.value("omit_session_token", false);
    SigningResult r = SignRequest(req, creds, opts);
    EXPECT_EQ(r.canonical_request, ReadFile(dir / "header-canonical-request.txt"));
    EXPECT_EQ(r.string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
    EXPECT_EQ(r.signature, ReadFile(dir / "header-signature.txt"));
    std::string signed_req = ReadFile(dir / "header-signed-request.txt");
    EXPECT_NE(signed_req.find("Authorization:" + *req.FindHeader("Authorization")),
              std::string::npos);
  }
}

TEST(SigV4, S3KeysAreEncodedOnceAndNotNormalized) {
  HttpRequest req;
  req.method = "PUT";
  req.host = "bucket.s3.amazonaws.com";
  req.path = "/backups/a b/../ñ+%.jsonl";
  SigningOptions opts;
  opts.region = "us-east-1";
  opts.service = "s3";
  opts.time = ParseTime("2026-01-01T00:00:00Z");
  opts.normalize_path = false;
  opts.add_content_sha256_header = true;
  opts.unsigned_payload = true;
  SigningResult r = SignRequest(req, {"AK", "SK", ""}, opts);
  EXPECT_EQ(Split(r.canonical_request, '\n')[1], "/backups/a%20b/../%C3%B1%2B%25.jsonl");
  EXPECT_EQ(*req.FindHeader("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_NE(r.canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_EQ(r.canonical_request.substr(r.canonical_request.size() - 16), "UNSIGNED-PAYLOAD");
}

TEST(SigV4, PathNormalization) {
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("/example/.."), "/");
  EXPECT_EQ(NormalizePath("//example//"), "/example/");
  EXPECT_EQ(NormalizePath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(NormalizePath("/a/b/."), "/a/b/");
}

TEST(Crypto, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Base64(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Base64("ab"), "YWI=");
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  EXPECT_EQ(Hex(s.Finish()), Sha256Hex("abc"));
}

// HMAC-SHA256 is built on the digest (RFC 2104): RFC 4231's cases 2 (a short key), 6 and 7
// (keys longer than the 64-byte block, hashed first).
TEST(Crypto, HmacSha256Rfc4231) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string long_key(131, '\xaa');
  EXPECT_EQ(Hex(HmacSha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(Hex(HmacSha256(long_key,
                           "This is a test using a larger than block-size key and a larger "
                           "than block-size data. The key needs to be hashed before being "
                           "used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // Every key length around the block size, against OpenSSL's own HMAC.
  for (size_t n = 0; n <= 130; ++n) {
    const std::string key(n, static_cast<char>('a' + n % 26)), data(n * 3, 'd');
    unsigned char want[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), want, &len);
    EXPECT_EQ(HmacSha256(key, data), std::string(reinterpret_cast<char*>(want), len)) << n;
  }
}

// The signing key is kept per thread for its day, region, service and secret: a change of any
// of them signs as a fresh derivation does.
TEST(SigV4, SigningKeyFollowsDateRegionServiceAndSecret) {
  auto sign = [](const std::string& secret, const std::string& region, const char* when) {
    HttpRequest req;
    req.method = "POST";
    req.host = "dynamodb.example";
    req.body = "{}";
    SigningOptions opts;
    opts.region = region;
    opts.service = "dynamodb";
    opts.time = ParseTime(when);
    SigningResult r = SignRequest(req, {"AK", secret, ""}, opts);
    // The signature by hand from the string to sign (AWS's derivation).
    std::string date = std::string(when).substr(0, 4) + std::string(when).substr(5, 2) +
                       std::string(when).substr(8, 2);
    std::string key = HmacSha256("AWS4" + secret, date);
    key = HmacSha256(HmacSha256(HmacSha256(key, region), "dynamodb"), "aws4_request");
    EXPECT_EQ(r.signature, Hex(HmacSha256(key, r.string_to_sign))) << secret << region << when;
    return r.signature;
  };
  std::string a = sign("S1", "us-east-1", "2026-01-01T10:00:00Z");
  EXPECT_NE(sign("S2", "us-east-1", "2026-01-01T10:00:00Z"), a);
  EXPECT_NE(sign("S1", "eu-west-1", "2026-01-01T10:00:00Z"), a);
  EXPECT_NE(sign("S1", "us-east-1", "2026-01-02T10:00:00Z"), a);
  EXPECT_EQ(sign("S1", "us-east-1", "2026-01-01T10:00:00Z"), a);
}

}  // namespace
}  // namespace di::aws
