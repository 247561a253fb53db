// S3Client: the S3 calls the service uses, path-style, on AwsClient (signing + retries).
// Every upload carries Content-MD5 and x-amz-checksum-sha256, which the server verifies.
// Errors are typed Statuses; a missing bucket says to run `--mode setup`. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aws/client.h"

namespace di::aws {

struct PutOptions {
  std::string content_type = "application/octet-stream";
  std::string sse;  // "AES256", "aws:kms" or "" (none)
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  std::string next_token;  // empty on the last page
};

struct PartInfo {
  int number = 0;
  std::string etag;
  std::string checksum_sha256;  // base64
};

class S3Client {
 public:
  explicit S3Client(std::shared_ptr<AwsClient> client) : client_(std::move(client)) {}

  // true when created, false when it already existed and is ours.
  Result<bool> CreateBucket(const std::string& bucket);
  Result<bool> BucketExists(const std::string& bucket);  // HeadBucket
  Status PutObject(const std::string& bucket, const std::string& key, std::string body,
                   const PutOptions& options = {});
  // Streams the object to `sink` (return false to stop); returns its size. A failed request
  // is retried only while no byte has reached `sink`.
  Result<uint64_t> GetObject(const std::string& bucket, const std::string& key,
                             const std::function<bool(std::string_view)>& sink);
  Result<std::string> GetObjectString(const std::string& bucket, const std::string& key);
  Result<ListPage> ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                 const std::string& token = "", int max_keys = 1000,
                                 const std::string& delimiter = "");
  // Every page of ListObjectsV2.
  Result<std::vector<ObjectInfo>> ListAll(const std::string& bucket, const std::string& prefix);
  // Deletes in requests of at most 1000 keys; any key the server refused is an error.
  Status DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys);

  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key,
                                            const PutOptions& options = {});
  Result<PartInfo> UploadPart(const std::string& bucket, const std::string& key,
                              const std::string& upload_id, int number, std::string data);
  Status CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, const std::vector<PartInfo>& parts);
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id);

  AwsClient& client() { return *client_; }

 private:
  Result<HttpResponse> Call(HttpRequest request, const std::string& bucket, bool unsigned_payload);
  Status Error(const HttpResponse& r, const std::string& bucket, const std::string& what,
               const Permission& needed);

  std::shared_ptr<AwsClient> client_;
};

// Streams one object as a multipart upload with parts of `part_size` bytes (at least 5 MiB;
// the last may be smaller): memory holds one part. Finish() completes it; an error or a
// writer dropped before Finish() aborts the upload, so no partial object is ever listed.
// Not thread-safe: one writer per object.
class S3MultipartWriter {
 public:
  static constexpr size_t kMinPartSize = 5 * 1024 * 1024;
  S3MultipartWriter(S3Client& s3, std::string bucket, std::string key, PutOptions options,
                    size_t part_size = 8 * 1024 * 1024);
  ~S3MultipartWriter();
  S3MultipartWriter(const S3MultipartWriter&) = delete;
  S3MultipartWriter& operator=(const S3MultipartWriter&) = delete;

  Status Write(std::string_view data);
  Status Finish();  // uploads what is left and completes; an empty object is a plain PUT
  Status Abort();
  uint64_t bytes_written() const { return bytes_; }
  size_t parts_uploaded() const { return parts_.size(); }

 private:
  Status Flush();
  Status WaitUpload();

  S3Client& s3_;
  std::string bucket_, key_;
  PutOptions options_;
  size_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<PartInfo> parts_;
  uint64_t bytes_ = 0;
  bool done_ = false;
  std::thread uploader_;  // the part in flight, if any
  Status upload_status_;
};

AwsError ParseS3Error(const HttpResponse& response);

}  // namespace di::aws
