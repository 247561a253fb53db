#include "aws/s3_client.h"

#include <set>

#include "aws/crypto.h"
#include "aws/xml.h"
#include "core/strings.h"

namespace di::aws {
namespace {

const char kSetupHint[] = "Run `data-ingestion --mode setup` to create it";

std::string ObjectPath(const std::string& bucket, const std::string& key) {
  return "/" + bucket + "/" + key;
}

// What IAM checks a call on (HeadBucket and ListObjectsV2 need s3:ListBucket on the bucket;
// the multipart calls s3:PutObject on the object).
Permission OnBucket(const std::string& action, const std::string& bucket) {
  return {action, "arn:aws:s3:::" + bucket};
}

Permission OnObject(const std::string& action, const std::string& bucket, const std::string& key) {
  return {action, "arn:aws:s3:::" + bucket + "/" + key};
}

void AddChecksums(HttpRequest& r) {
  std::string sha = Sha256(r.body);
  r.SetHeader("Content-MD5", Base64(Md5(r.body)));
  r.SetHeader("x-amz-checksum-sha256", Base64(sha));
}

void AddPutOptions(HttpRequest& r, const PutOptions& o) {
  if (!o.content_type.empty()) r.SetHeader("Content-Type", o.content_type);
  if (!o.sse.empty()) r.SetHeader("x-amz-server-side-encryption", o.sse);
}

}  // namespace

AwsError ParseS3Error(const HttpResponse& r) {
  AwsError e;
  e.http_status = r.status;
  if (const std::string* id = r.FindHeader("x-amz-request-id")) e.request_id = *id;
  auto xml = ParseXml(r.body);
  if (xml.ok() && xml->name == "Error") {
    e.code = xml->ChildText("Code");
    e.message = xml->ChildText("Message");
    if (e.request_id.empty()) e.request_id = xml->ChildText("RequestId");
  }
  if (e.code.empty()) {  // HEAD answers have no body
    if (r.status == 404) e.code = "NotFound";
    if (r.status == 403) e.code = "Forbidden";
    if (r.status == 503) e.code = "SlowDown";
  }
  return e;
}

Result<HttpResponse> S3Client::Call(HttpRequest request, const std::string&,
                                    bool unsigned_payload) {
  return client_->Send(std::move(request), ParseS3Error, [&](SigningOptions& so) {
    so.normalize_path = false;
    so.add_content_sha256_header = true;
    so.unsigned_payload = unsigned_payload;
  });
}

Status S3Client::Error(const HttpResponse& r, const std::string& bucket, const std::string& what,
                       const Permission& needed) {
  AwsError e = ParseS3Error(r);
  std::string hint;
  if (e.code == "NoSuchBucket")
    hint = std::string("Bucket '") + bucket + "' is missing. " + kSetupHint;
  return ErrorStatus("S3 " + what, e, hint, needed);
}

Result<bool> S3Client::CreateBucket(const std::string& bucket) {
  // us-east-1 answers 200 to a second CreateBucket by the owner, so ask first.
  ASSIGN_OR_RETURN(bool exists, BucketExists(bucket));
  if (exists) return false;
  HttpRequest r;
  r.method = "PUT";
  r.path = "/" + bucket;
  const std::string& region = client_->options().region;
  if (region != "us-east-1")
    r.body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        region + "</LocationConstraint></CreateBucketConfiguration>";
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status < 300) return true;
  AwsError e = ParseS3Error(resp);
  if (e.code == "BucketAlreadyOwnedByYou") return false;
  if (e.code == "BucketAlreadyExists")
    return AlreadyExists("S3 bucket '" + bucket +
                         "' already exists and belongs to another account; choose another "
                         "S3_BUCKET_NAME");
  return Error(resp, bucket, "CreateBucket " + bucket, OnBucket("s3:CreateBucket", bucket));
}

Result<bool> S3Client::BucketExists(const std::string& bucket) {
  HttpRequest r;
  r.method = "HEAD";
  r.path = "/" + bucket;
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status < 300) return true;
  if (resp.status == 404) return false;
  return Error(resp, bucket, "HeadBucket " + bucket, OnBucket("s3:ListBucket", bucket));
}

Status S3Client::PutObject(const std::string& bucket, const std::string& key, std::string body,
                           const PutOptions& options) {
  HttpRequest r;
  r.method = "PUT";
  r.path = ObjectPath(bucket, key);
  r.body = std::move(body);
  AddChecksums(r);
  AddPutOptions(r, options);
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300)
    return Error(resp, bucket, "PutObject s3://" + bucket + "/" + key,
                 OnObject("s3:PutObject", bucket, key));
  return Status::Ok();
}

Result<uint64_t> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                     const std::function<bool(std::string_view)>& sink) {
  uint64_t size = 0;
  HttpRequest r;
  r.path = ObjectPath(bucket, key);
  r.on_body = [&](std::string_view chunk) {
    size += chunk.size();
    return sink(chunk);
  };
  // A retry would hand the first bytes on again: only while none has been.
  r.retry_safe = [&] { return size == 0; };
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300)
    return Error(resp, bucket, "GetObject s3://" + bucket + "/" + key,
                 OnObject("s3:GetObject", bucket, key));
  return size;
}

Result<std::string> S3Client::GetObjectString(const std::string& bucket, const std::string& key) {
  std::string out;
  auto r = GetObject(bucket, key, [&](std::string_view c) {
    out.append(c);
    return true;
  });
  if (!r.ok()) return r.status();
  return out;
}

Result<ListPage> S3Client::ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                         const std::string& token, int max_keys,
                                         const std::string& delimiter) {
  HttpRequest r;
  r.path = "/" + bucket;
  r.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
  if (!token.empty()) r.query.emplace_back("continuation-token", token);
  if (!delimiter.empty()) r.query.emplace_back("delimiter", delimiter);
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300)
    return Error(resp, bucket, "ListObjectsV2 " + bucket, OnBucket("s3:ListBucket", bucket));
  ASSIGN_OR_RETURN(XmlNode xml, ParseXml(resp.body));
  ListPage page;
  for (const XmlNode* c : xml.Children("Contents")) {
    ObjectInfo o;
    o.key = c->ChildText("Key");
    const std::string size = c->ChildText("Size");  // (none: 0)
    auto n = AllDigits(size) && size.size() <= 18 ? ParseInt64("0" + size) : std::nullopt;
    if (!n)
      return Corruption("S3 ListObjectsV2 " + bucket + ": the size of '" + o.key + "' is '" + size +
                        "', not a number of bytes");
    o.size = static_cast<uint64_t>(*n);
    o.etag = c->ChildText("ETag");
    o.last_modified = c->ChildText("LastModified");
    page.objects.push_back(std::move(o));
  }
  for (const XmlNode* p : xml.Children("CommonPrefixes"))
    page.common_prefixes.push_back(p->ChildText("Prefix"));
  if (xml.ChildText("IsTruncated") == "true") {
    page.next_token = xml.ChildText("NextContinuationToken");
    if (page.next_token.empty())
      return Internal("S3 ListObjectsV2 " + bucket +
                      ": truncated page without a continuation token");
  }
  return page;
}

Result<std::vector<ObjectInfo>> S3Client::ListAll(const std::string& bucket,
                                                  const std::string& prefix) {
  std::vector<ObjectInfo> all;
  std::string token;
  std::set<std::string> seen;  // a server that hands a token out twice would be listed forever
  do {
    ASSIGN_OR_RETURN(ListPage page, ListObjectsV2(bucket, prefix, token));
    for (auto& o : page.objects) all.push_back(std::move(o));
    token = page.next_token;
    if (!token.empty() && !seen.insert(token).second)
      return Corruption("S3 ListObjectsV2 " + bucket + ": the continuation token '" + token +
                        "' came twice; the listing would not end");
  } while (!token.empty());
  return all;
}

Status S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) {
  for (size_t start = 0; start < keys.size(); start += 1000) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/" + bucket;
    r.query = {{"delete", ""}};
    r.body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
    for (size_t i = start; i < std::min(keys.size(), start + 1000); ++i)
      r.body += "<Object><Key>" + XmlEscape(keys[i]) + "</Key></Object>";
    r.body += "</Delete>";
    r.SetHeader("Content-Type", "application/xml");
    AddChecksums(r);
    ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
    if (resp.status >= 300)
      return Error(resp, bucket, "DeleteObjects " + bucket,
                   OnObject("s3:DeleteObject", bucket, keys[start]));
    ASSIGN_OR_RETURN(XmlNode xml, ParseXml(resp.body));
    auto errors = xml.Children("Error");
    if (errors.empty()) continue;
    const std::string key = errors[0]->ChildText("Key"), code = errors[0]->ChildText("Code");
    const std::string msg = "S3 DeleteObjects " + bucket + ": " + std::to_string(errors.size()) +
                            " keys not deleted, first '" + key + "': " + code + " " +
                            errors[0]->ChildText("Message");
    // AWS checks s3:DeleteObject key by key, and answers a refused key in the list.
    if (code == "AccessDenied")
      return Unauthenticated(msg + ". " +
                             LacksPermission(OnObject("s3:DeleteObject", bucket, key)));
    return Internal(msg);
  }
  return Status::Ok();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                    const std::string& key,
                                                    const PutOptions& options) {
  HttpRequest r;
  r.method = "POST";
  r.path = ObjectPath(bucket, key);
  r.query = {{"uploads", ""}};
  AddPutOptions(r, options);
  r.SetHeader("x-amz-checksum-algorithm", "SHA256");
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300)
    return Error(resp, bucket, "CreateMultipartUpload s3://" + bucket + "/" + key,
                 OnObject("s3:PutObject", bucket, key));
  ASSIGN_OR_RETURN(XmlNode xml, ParseXml(resp.body));
  std::string id = xml.ChildText("UploadId");
  if (id.empty()) return Internal("S3 CreateMultipartUpload: no UploadId in the answer");
  return id;
}

Result<PartInfo> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id, int number, std::string data) {
  HttpRequest r;
  r.method = "PUT";
  r.path = ObjectPath(bucket, key);
  r.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
  r.body = std::move(data);
  AddChecksums(r);
  PartInfo part{number, "", *r.FindHeader("x-amz-checksum-sha256")};
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300)
    return Error(resp, bucket,
                 "UploadPart " + std::to_string(number) + " of s3://" + bucket + "/" + key,
                 OnObject("s3:PutObject", bucket, key));
  const std::string* etag = resp.FindHeader("ETag");
  if (!etag) return Internal("S3 UploadPart: no ETag in the answer");
  part.etag = *etag;
  return part;
}

Status S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<PartInfo>& parts) {
  HttpRequest r;
  r.method = "POST";
  r.path = ObjectPath(bucket, key);
  r.query = {{"uploadId", upload_id}};
  r.body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : parts)
    r.body += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
              XmlEscape(p.etag) + "</ETag><ChecksumSHA256>" + p.checksum_sha256 +
              "</ChecksumSHA256></Part>";
  r.body += "</CompleteMultipartUpload>";
  r.SetHeader("Content-Type", "application/xml");
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  // CompleteMultipartUpload can fail with 200 and an <Error> body.
  if (resp.status >= 300 || resp.body.find("<Error>") != std::string::npos) {
    if (resp.status < 300) resp.status = 500;
    return Error(resp, bucket, "CompleteMultipartUpload s3://" + bucket + "/" + key,
                 OnObject("s3:PutObject", bucket, key));
  }
  return Status::Ok();
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) {
  HttpRequest r;
  r.method = "DELETE";
  r.path = ObjectPath(bucket, key);
  r.query = {{"uploadId", upload_id}};
  ASSIGN_OR_RETURN(HttpResponse resp, Call(std::move(r), bucket, false));
  if (resp.status >= 300 && resp.status != 404)
    return Error(resp, bucket, "AbortMultipartUpload s3://" + bucket + "/" + key,
                 OnObject("s3:AbortMultipartUpload", bucket, key));
  return Status::Ok();
}

S3MultipartWriter::S3MultipartWriter(S3Client& s3, std::string bucket, std::string key,
                                     PutOptions options, size_t part_size)
    : s3_(s3),
      bucket_(std::move(bucket)),
      key_(std::move(key)),
      options_(std::move(options)),
      part_size_(std::max(part_size, kMinPartSize)) {
  buffer_.reserve(part_size_);
}

S3MultipartWriter::~S3MultipartWriter() {
  if (!done_) (void)Abort();
}

Status S3MultipartWriter::Write(std::string_view data) {
  if (done_) return Internal("S3MultipartWriter: write after Finish or Abort");
  while (!data.empty()) {
    size_t n = std::min(data.size(), part_size_ - buffer_.size());
    buffer_.append(data.substr(0, n));
    data.remove_prefix(n);
    bytes_ += n;
    if (buffer_.size() == part_size_) {
      Status s = Flush();
      if (!s.ok()) {
        (void)Abort();
        return s;
      }
    }
  }
  return Status::Ok();
}

Status S3MultipartWriter::WaitUpload() {
  if (uploader_.joinable()) uploader_.join();
  Status s = std::move(upload_status_);
  upload_status_ = Status::Ok();
  return s;
}

// Starts uploading the full buffer as the next part, on its own thread, so that the caller
// fills the next part meanwhile; at most one part is in flight (memory: two parts).
Status S3MultipartWriter::Flush() {
  RETURN_IF_ERROR(WaitUpload());
  if (upload_id_.empty()) {
    ASSIGN_OR_RETURN(upload_id_, s3_.CreateMultipartUpload(bucket_, key_, options_));
  }
  std::string part;
  part.swap(buffer_);
  int number = static_cast<int>(parts_.size()) + 1;
  uploader_ = std::thread([this, number, part = std::move(part)]() mutable {
    auto info = s3_.UploadPart(bucket_, key_, upload_id_, number, std::move(part));
    if (info.ok())
      parts_.push_back(std::move(*info));
    else
      upload_status_ = info.status();
  });
  buffer_.reserve(part_size_);
  return Status::Ok();
}

Status S3MultipartWriter::Finish() {
  if (done_) return Internal("S3MultipartWriter: Finish called twice");
  if (upload_id_.empty()) {  // small object: one PUT
    done_ = true;
    return s3_.PutObject(bucket_, key_, std::move(buffer_), options_);
  }
  Status s = buffer_.empty() ? Status::Ok() : Flush();
  if (s.ok()) s = WaitUpload();
  if (s.ok()) s = s3_.CompleteMultipartUpload(bucket_, key_, upload_id_, parts_);
  if (!s.ok()) {
    (void)Abort();
    return s;
  }
  done_ = true;
  return Status::Ok();
}

Status S3MultipartWriter::Abort() {
  (void)WaitUpload();
  done_ = true;
  buffer_.clear();
  if (upload_id_.empty()) return Status::Ok();
  std::string id;
  id.swap(upload_id_);
  return s3_.AbortMultipartUpload(bucket_, key_, id);
}

}  // namespace di::aws
