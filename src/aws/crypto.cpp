#include "aws/crypto.h"

#include "core/json_encode.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstring>

namespace di::aws {

namespace {

// SHA-256 fetched from OpenSSL's provider once: EVP_sha256() and the one-shot HMAC() look
// the algorithm up (a locked table) on every call, which was most of a SigV4 signature's
// cost beside the payload's hash.
const EVP_MD* FetchedSha256() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

// One digest context per thread, reused.
EVP_MD_CTX* ThreadContext() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder holder;
  return holder.ctx;
}

// SHA-256 of the concatenation of two pieces into out (32 bytes).
void Sha256Into(std::string_view a, std::string_view b, unsigned char* out) {
  EVP_MD_CTX* ctx = ThreadContext();
  EVP_DigestInit_ex(ctx, FetchedSha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx, b.data(), b.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string Sha256(std::string_view data) {
  unsigned char out[32];
  Sha256Into(data, {}, out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}
std::string Md5(std::string_view data) {
  return Digest(EVP_md5(), data);
}

// RFC 2104 with SHA-256 (64-byte blocks): H((K ^ opad) || H((K ^ ipad) || data)).
std::string HmacSha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock)
    Sha256Into(key, {}, k);
  else
    std::memcpy(k, key.data(), key.size());
  char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<char>(k[i] ^ 0x36);
  unsigned char inner[32];
  Sha256Into(std::string_view(pad, kBlock), data, inner);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<char>(k[i] ^ 0x5c);
  unsigned char outer[32];
  Sha256Into(std::string_view(pad, kBlock),
             std::string_view(reinterpret_cast<char*>(inner), sizeof inner), outer);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return std::string(reinterpret_cast<char*>(outer), sizeof outer);
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  return Base64Encode(bytes);
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), FetchedSha256(), nullptr);
}
Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}
void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
std::string Sha256Stream::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_DigestInit_ex(ctx, FetchedSha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace di::aws
