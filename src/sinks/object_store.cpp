#include "sinks/object_store.h"

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace di {
namespace {

namespace fs = std::filesystem;

class S3Writer : public ObjectWriter {
 public:
  S3Writer(aws::S3Client& s3, std::string bucket, std::string key, aws::PutOptions o, size_t part)
      : w_(s3, std::move(bucket), std::move(key), std::move(o), part) {}
  Status Write(std::string_view data) override { return w_.Write(data); }
  Status Finish() override { return w_.Finish(); }

 private:
  aws::S3MultipartWriter w_;
};

class S3Store : public ObjectStore {
 public:
  S3Store(aws::S3Client& s3, std::string bucket, std::string sse, size_t part)
      : s3_(s3),
        bucket_(std::move(bucket)),
        sse_(sse == "none" ? "" : std::move(sse)),
        part_(part) {}
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& key,
                                               const std::string& type) override {
    return std::unique_ptr<ObjectWriter>(new S3Writer(s3_, bucket_, key, {type, sse_}, part_));
  }
  Status Put(const std::string& key, const std::string& data, const std::string& type) override {
    return s3_.PutObject(bucket_, key, data, {type, sse_});
  }
  Result<std::string> Get(const std::string& key) override {
    return s3_.GetObjectString(bucket_, key);
  }
  Status GetStream(const std::string& key, const ChunkSink& chunk) override {
    Status refused;
    auto r = s3_.GetObject(bucket_, key, [&](std::string_view piece) {
      refused = chunk(piece);
      return refused.ok();
    });
    if (!refused.ok()) return refused;
    return r.status();
  }
  Result<std::vector<aws::ObjectInfo>> List(const std::string& prefix) override {
    return s3_.ListAll(bucket_, prefix);
  }
  Status Delete(const std::vector<std::string>& keys) override {
    return s3_.DeleteObjects(bucket_, keys);
  }
  std::string Describe(const std::string& key) const override {
    return "s3://" + bucket_ + "/" + key;
  }
  Status Check() override {
    ASSIGN_OR_RETURN(bool exists, s3_.BucketExists(bucket_));
    return exists ? Status::Ok()
                  : NotFound("S3 bucket '" + bucket_ +
                             "' does not exist. Run `data-ingestion --mode setup` to create it");
  }

 private:
  aws::S3Client& s3_;
  std::string bucket_, sse_;
  size_t part_;
};

std::atomic<uint64_t> g_tmp_counter{0};
constexpr size_t kReadChunk = 256 * 1024;  // a local object is read in pieces of this size

class LocalWriter : public ObjectWriter {
 public:
  LocalWriter(fs::path final_path, fs::path tmp)
      : final_(std::move(final_path)), tmp_(std::move(tmp)) {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
  }
  ~LocalWriter() override {
    if (!done_) {
      out_.close();
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  bool ok() const { return out_.good(); }
  Status Write(std::string_view data) override {
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out_) return Unavailable("cannot write " + tmp_.string() + ": disk full or not writable");
    return Status::Ok();
  }
  Status Finish() override {
    out_.flush();
    out_.close();
    if (!out_) return Unavailable("cannot write " + tmp_.string());
    std::error_code ec;
    fs::rename(tmp_, final_, ec);  // atomic: the object appears whole or not at all
    if (ec) return Unavailable("cannot rename " + tmp_.string() + ": " + ec.message());
    done_ = true;
    return Status::Ok();
  }

 private:
  fs::path final_, tmp_;
  std::ofstream out_;
  bool done_ = false;
};

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& key,
                                               const std::string&) override {
    fs::path p = Path(key);
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return Unavailable("cannot create " + p.parent_path().string() + ": " + ec.message());
    fs::path tmp = p;
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_tmp_counter++);
    auto w = std::make_unique<LocalWriter>(p, tmp);
    if (!w->ok()) return Unavailable("cannot create " + tmp.string());
    return std::unique_ptr<ObjectWriter>(std::move(w));
  }
  Status Put(const std::string& key, const std::string& data, const std::string& type) override {
    ASSIGN_OR_RETURN(auto w, Create(key, type));
    RETURN_IF_ERROR(w->Write(data));
    return w->Finish();
  }
  Result<std::string> Get(const std::string& key) override {
    std::ifstream in(Path(key), std::ios::binary);
    if (!in) return NotFound("no object " + Path(key).string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  Status GetStream(const std::string& key, const ChunkSink& chunk) override {
    std::ifstream in(Path(key), std::ios::binary);
    if (!in) return NotFound("no object " + Path(key).string());
    std::vector<char> buf(kReadChunk);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      size_t n = static_cast<size_t>(in.gcount());
      if (n > 0) RETURN_IF_ERROR(chunk(std::string_view(buf.data(), n)));
    }
    if (in.bad()) return Unavailable("cannot read " + Path(key).string());
    return Status::Ok();
  }
  Result<std::vector<aws::ObjectInfo>> List(const std::string& prefix) override {
    std::vector<aws::ObjectInfo> out;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file()) continue;
      std::string key = fs::relative(it->path(), root_).string();
      if (key.find(".tmp-") != std::string::npos) continue;  // unfinished writers
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      out.push_back({key, static_cast<uint64_t>(it->file_size()), "", ""});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
  }
  Status Delete(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) {
      std::error_code ec;
      fs::remove(Path(k), ec);
    }
    return Status::Ok();
  }
  std::string Describe(const std::string& key) const override { return Path(key).string(); }
  Status Check() override {
    return fs::is_directory(root_) ? Status::Ok()
                                   : NotFound(root_ +
                                              " is not a directory. Run `data-ingestion --mode "
                                              "setup` to create it");
  }

 private:
  fs::path Path(const std::string& key) const { return fs::path(root_) / key; }
  std::string root_;
};

}  // namespace

std::unique_ptr<ObjectStore> MakeS3Store(aws::S3Client& s3, std::string bucket, std::string sse,
                                         size_t part_size) {
  return std::make_unique<S3Store>(s3, std::move(bucket), std::move(sse), part_size);
}

std::unique_ptr<ObjectStore> MakeLocalStore(std::string root) {
  return std::make_unique<LocalStore>(std::move(root));
}

}  // namespace di
