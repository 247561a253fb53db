// AWS Signature Version 4 (header signing). Pure: the time is an input, nothing is read
// from the clock or the environment.
#pragma once

#include <chrono>
#include <string>

#include "aws/http.h"

namespace di::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

struct SigningOptions {
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;              // remove dot segments and '//' (never for S3)
  bool add_content_sha256_header = false;  // x-amz-content-sha256 (always for S3)
  bool unsigned_payload = false;           // S3 UNSIGNED-PAYLOAD for streamed bodies
  bool sign_session_token = true;          // false: the token header is added after signing
  std::string payload_hash;                // precomputed hex SHA-256 of the body, if any
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Adds X-Amz-Date, X-Amz-Security-Token (with a session token), x-amz-content-sha256 (when
// asked) and Authorization to `request`. Every header already on the request is signed but
// user-agent, expect and authorization.
SigningResult SignRequest(HttpRequest& request, const Credentials& credentials,
                          const SigningOptions& options);

// "20150830T123600Z"
std::string AmzDate(std::chrono::system_clock::time_point t);
// The path after RFC 3986 dot-segment removal with empty segments dropped.
std::string NormalizePath(std::string_view path);

}  // namespace di::aws
