#include "aws/sigv4.h"

#include <algorithm>
#include <ctime>

#include "aws/crypto.h"
#include "core/strings.h"

namespace di::aws {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Trims and folds every run of whitespace (also line breaks of folded headers) to one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : Trim(v)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool Unsigned(std::string_view lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" || lower_name == "authorization" ||
         lower_name == "x-amzn-trace-id";
}

std::string CanonicalQuery(const HttpRequest& r) {
  std::vector<std::pair<std::string, std::string>> q;
  q.reserve(r.query.size());
  for (const auto& [k, v] : r.query) q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(q.begin(), q.end());
  std::string out;
  for (const auto& [k, v] : q) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

}  // namespace

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> out;
  auto parts = Split(path, '/');
  for (std::string_view seg : parts) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = "/";
  for (size_t i = 0; i < out.size(); ++i)
    result += std::string(out[i]) + (i + 1 < out.size() ? "/" : "");
  std::string_view last = parts.back();
  bool trailing = last.empty() || last == "." || last == "..";
  if (trailing && !out.empty()) result += '/';
  return result;
}

namespace {

// The signing key changes with the day, the region and the service only: derived once per
// thread for each (four HMACs a request otherwise).
const std::string& SigningKey(const std::string& secret, const std::string& date,
                              const std::string& region, const std::string& service) {
  struct Cached {
    std::string secret, date, region, service, key;
  };
  thread_local Cached c;
  if (c.key.empty() || c.date != date || c.region != region || c.service != service ||
      c.secret != secret) {
    std::string key = HmacSha256("AWS4" + secret, date);
    key = HmacSha256(key, region);
    key = HmacSha256(key, service);
    c = {secret, date, region, service, HmacSha256(key, "aws4_request")};
  }
  return c.key;
}

}  // namespace

SigningResult SignRequest(HttpRequest& request, const Credentials& credentials,
                          const SigningOptions& options) {
  const std::string amz_date = AmzDate(options.time);
  const std::string date = amz_date.substr(0, 8);
  request.SetHeader("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty() && options.sign_session_token)
    request.SetHeader("X-Amz-Security-Token", credentials.session_token);

  std::string payload_hash;
  if (options.unsigned_payload)
    payload_hash = "UNSIGNED-PAYLOAD";
  else if (!options.payload_hash.empty())
    payload_hash = options.payload_hash;
  else
    payload_hash = request.body.empty() ? std::string(kEmptySha256) : Sha256Hex(request.body);
  if (options.add_content_sha256_header) request.SetHeader("x-amz-content-sha256", payload_hash);

  // name -> values in order of appearance; duplicates joined with ','.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : request.headers) {
    std::string name = ToLower(Trim(h.name));
    if (Unsigned(name)) continue;
    std::string value = CanonicalHeaderValue(h.value);
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == headers.end())
      headers.emplace_back(std::move(name), std::move(value));
    else
      it->second += "," + value;
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }

  std::string path = options.normalize_path ? NormalizePath(request.path) : request.path;
  SigningResult r;
  r.canonical_request = request.method + "\n" + UriEncode(path, true) + "\n" +
                        CanonicalQuery(request) + "\n" + canonical_headers + "\n" + signed_headers +
                        "\n" + payload_hash;
  const std::string scope = date + "/" + options.region + "/" + options.service + "/aws4_request";
  r.string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(r.canonical_request);
  r.signature = Hex(
      HmacSha256(SigningKey(credentials.secret_access_key, date, options.region, options.service),
                 r.string_to_sign));
  request.SetHeader("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id +
                                         "/" + scope + ", SignedHeaders=" + signed_headers +
                                         ", Signature=" + r.signature);
  if (!credentials.session_token.empty() && !options.sign_session_token)
    request.SetHeader("X-Amz-Security-Token", credentials.session_token);
  return r;
}

}  // namespace di::aws
