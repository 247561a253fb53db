// MemoryStore: an ObjectStore (sinks/object_store.h) of objects held in memory, for the fuzz
// targets that hand the product a bucket whose contents the input chose. Streams hand an
// object on in small pieces, as S3 does. Not thread-safe: one input at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sinks/object_store.h"

namespace di::fuzz {

class MemoryStore : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& key,
                                               const std::string&) override {
    class Writer : public ObjectWriter {
     public:
      Writer(MemoryStore& s, std::string key) : s_(s), key_(std::move(key)) {}
      Status Write(std::string_view data) override {
        data_.append(data);
        return Status::Ok();
      }
      Status Finish() override {
        s_.objects[key_] = std::move(data_);
        return Status::Ok();
      }

     private:
      MemoryStore& s_;
      std::string key_, data_;
    };
    return std::unique_ptr<ObjectWriter>(std::make_unique<Writer>(*this, key));
  }
  Status Put(const std::string& key, const std::string& data, const std::string&) override {
    objects[key] = data;
    return Status::Ok();
  }
  Result<std::string> Get(const std::string& key) override {
    auto it = objects.find(key);
    if (it == objects.end()) return NotFound("no object " + key);
    return it->second;
  }
  Status GetStream(const std::string& key, const ChunkSink& chunk) override {
    auto it = objects.find(key);
    if (it == objects.end()) return NotFound("no object " + key);
    std::string_view data = it->second;
    for (size_t i = 0; i < data.size(); i += 61) RETURN_IF_ERROR(chunk(data.substr(i, 61)));
    return Status::Ok();
  }
  Result<std::vector<aws::ObjectInfo>> List(const std::string& prefix) override {
    std::vector<aws::ObjectInfo> out;
    for (auto it = objects.lower_bound(prefix);
         it != objects.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      out.push_back({it->first, it->second.size(), "", ""});
    return out;
  }
  Status Delete(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) objects.erase(k);
    return Status::Ok();
  }
  std::string Describe(const std::string& key) const override { return "memory:" + key; }
  Status Check() override { return Status::Ok(); }
};

}  // namespace di::fuzz
