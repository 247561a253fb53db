// Hashes, HMAC and encodings the AWS layer needs (OpenSSL underneath). Pure functions,
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace di::aws {

std::string Sha256(std::string_view data);                            // 32 raw bytes
std::string Md5(std::string_view data);                               // 16 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Hex(std::string_view bytes);                              // lowercase
std::string Base64(std::string_view bytes);
inline std::string Sha256Hex(std::string_view data) {
  return Hex(Sha256(data));
}

// Incremental SHA-256 for streamed payloads.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // 32 raw bytes; the object is reset afterwards

 private:
  void* ctx_;
};

}  // namespace di::aws
