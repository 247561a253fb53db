// ObjectStore: where backups, manifests and reports go — S3, or a local directory for a
// `file:///path` S3_BUCKET_NAME. A writer's object appears only when Finish() succeeds
// (multipart upload completed / temporary file renamed), so no half-written object is
// ever listed. Stores are thread-safe; each writer belongs to one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aws/s3_client.h"
#include "config/config.h"
#include "core/status.h"

namespace di {

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;  // dropping an unfinished writer abandons the object
  virtual Status Write(std::string_view data) = 0;
  virtual Status Finish() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual Result<std::unique_ptr<ObjectWriter>> Create(const std::string& key,
                                                       const std::string& content_type) = 0;
  virtual Status Put(const std::string& key, const std::string& data,
                     const std::string& content_type) = 0;
  virtual Result<std::string> Get(const std::string& key) = 0;
  // The object handed to `chunk` in pieces as it is read (memory: one piece, not the object);
  // an error of `chunk` stops the read and is returned. A missing object is NotFound. S3
  // retries a failed request only while no byte has been handed on.
  using ChunkSink = std::function<Status(std::string_view)>;
  virtual Status GetStream(const std::string& key, const ChunkSink& chunk) = 0;
  virtual Result<std::vector<aws::ObjectInfo>> List(const std::string& prefix) = 0;
  virtual Status Delete(const std::vector<std::string>& keys) = 0;
  virtual std::string Describe(const std::string& key) const = 0;  // s3://b/k or /path/k
  // Whether the store answers and its bucket or folder exists (the health check).
  virtual Status Check() = 0;
};

// S3 with SSE (`sse` empty for none) and multipart uploads of `part_size` bytes.
std::unique_ptr<ObjectStore> MakeS3Store(aws::S3Client& s3, std::string bucket, std::string sse,
                                         size_t part_size = 8 * 1024 * 1024);
std::unique_ptr<ObjectStore> MakeLocalStore(std::string root);

}  // namespace di
