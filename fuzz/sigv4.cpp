// libFuzzer target: SigV4 canonicalisation (aws/sigv4.h) of a request the input builds —
// method, path, query, headers, body, session token and signing options. Signing must be
// deterministic, list the headers it signs in order, and never fail; the path helpers must
// hold their own laws (normalising twice changes nothing, decoding undoes encoding).
#include <fuzzer/FuzzedDataProvider.h>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "fuzz/fuzz_support.h"

namespace {

using di::fuzz::Check;

di::aws::HttpRequest Build(FuzzedDataProvider& in) {
  di::aws::HttpRequest r;
  r.method = in.ConsumeRandomLengthString(8);
  r.host = "dynamodb.eu-west-3.amazonaws.com";
  r.path = in.ConsumeRandomLengthString(64);
  for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) {
    std::string k = in.ConsumeRandomLengthString(16);
    r.query.emplace_back(std::move(k), in.ConsumeRandomLengthString(16));
  }
  for (int i = in.ConsumeIntegralInRange(0, 6); i > 0; --i) {
    std::string name = in.ConsumeRandomLengthString(16);
    r.headers.push_back({std::move(name), in.ConsumeRandomLengthString(32)});
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  di::aws::HttpRequest request = Build(in);
  di::aws::Credentials creds{"AKIDFUZZ", "fuzz-secret", in.ConsumeRandomLengthString(16)};
  di::aws::SigningOptions o;
  o.region = "eu-west-3";
  o.service = in.ConsumeBool() ? "s3" : "dynamodb";
  // 1970 to 2200, as a clock gives (system_clock counts nanoseconds: 2262 at most).
  o.time = std::chrono::system_clock::time_point(
      std::chrono::seconds(in.ConsumeIntegralInRange<int64_t>(0, 7'258'118'400)));
  o.normalize_path = in.ConsumeBool();
  o.add_content_sha256_header = in.ConsumeBool();
  o.unsigned_payload = in.ConsumeBool();
  o.sign_session_token = in.ConsumeBool();
  request.body = in.ConsumeRemainingBytesAsString();

  di::aws::HttpRequest again = request;
  auto first = di::aws::SignRequest(request, creds, o);
  auto second = di::aws::SignRequest(again, creds, o);
  Check(first.signature == second.signature && first.canonical_request == second.canonical_request,
        "signing the same request twice gives two signatures");
  Check(first.signature.size() == 64, "a signature that is not 64 hex digits");
  const std::string* auth = request.FindHeader("Authorization");
  Check(auth && auth->find("Signature=" + first.signature) != std::string::npos,
        "the Authorization header does not carry the signature");
  Check(di::aws::AmzDate(o.time).size() == 16, "an X-Amz-Date that is not 16 characters");

  const std::string path = request.path;
  const std::string once = di::aws::NormalizePath(path);
  Check(!once.empty() && once.front() == '/', "a normalised path that does not start with /");
  Check(di::aws::NormalizePath(once) == once, "normalising a path twice changes it: " + path);
  for (bool keep_slash : {false, true})
    Check(di::aws::UriDecode(di::aws::UriEncode(path, keep_slash)) == path,
          "UriDecode does not undo UriEncode");
  (void)request.Url();
  return 0;
}
