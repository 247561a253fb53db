// libFuzzer target: S3's XML answers (aws/xml.h) as the S3 client reads them
// (aws/s3_client.h). The input's last byte picks the call, the one before it the HTTP status,
// and the rest is the answer's body (also parsed as XML on its own). Every answer must end in a
// result or a Status; a listing whose pages never end must not loop forever.
#include <fuzzer/FuzzedDataProvider.h>

#include "aws/s3_client.h"
#include "aws/xml.h"
#include "fuzz/aws_client.h"
#include "fuzz/fuzz_support.h"

namespace {

void Walk(const di::aws::XmlNode& n) {
  (void)n.ChildText("Key");
  for (const auto& c : n.children) Walk(c);
}

void Call(di::aws::S3Client& s3, uint8_t op) {
  const std::string b = "bucket", k = "backups/t/part-00000.jsonl.gz";
  switch (op % 9) {
    case 0:
      (void)s3.ListObjectsV2(b, "backups/", "", 1000, "/");
      break;
    case 1:
      (void)s3.ListAll(b, "backups/");
      break;
    case 2:
      (void)s3.DeleteObjects(b, {k, "a&b<c>"});
      break;
    case 3:
      (void)s3.CreateMultipartUpload(b, k);
      break;
    case 4:
      (void)s3.UploadPart(b, k, "upload-1", 1, "part bytes");
      break;
    case 5:
      (void)s3.CompleteMultipartUpload(b, k, "upload-1", {{1, "\"etag\"", "c2hh"}});
      break;
    case 6:
      (void)s3.GetObjectString(b, k);
      break;
    case 7:
      (void)s3.CreateBucket(b);
      break;
    default:
      (void)s3.PutObject(b, k, "body");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  di::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint8_t op = in.ConsumeIntegral<uint8_t>();
  static constexpr long kStatus[] = {200, 200, 204, 301, 400, 403, 404, 409, 500, 503};
  di::aws::HttpResponse answer;
  answer.status = in.PickValueInArray(kStatus);
  answer.headers = {{"x-amz-request-id", "REQ1"}, {"ETag", "\"etag\""}};
  answer.body = in.ConsumeRemainingBytesAsString();

  auto xml = di::aws::ParseXml(answer.body);
  if (xml.ok()) Walk(*xml);
  (void)di::aws::ParseS3Error(answer);
  auto escaped = di::aws::ParseXml("<a>" + di::aws::XmlEscape(answer.body) + "</a>");
  di::fuzz::Check(escaped.ok() && escaped->text == answer.body,
                  "XmlEscape then ParseXml does not give the text back");

  auto transport = std::make_shared<di::fuzz::CannedTransport>(answer);
  di::aws::S3Client s3(di::fuzz::ClientOver("s3", transport));
  Call(s3, op);
  return 0;
}
