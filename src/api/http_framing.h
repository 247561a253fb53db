// Where one HTTP/1.1 request ends in the bytes a connection has received so far (RFC 9112,
// section 6): its header up to the empty line, then a body of Content-Length bytes or of
// chunks; a request with neither has no body. The API's connection gate (http_gate.h) waits
// with this until a request is whole before a worker serves it, and answers the requests it
// refuses itself (with the status and message given here). Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace di {

struct FrameLimits {
  size_t max_header_bytes = 16 << 10;  // request line and header fields: past this, 431
  size_t max_body_bytes = 1 << 20;     // past this, 413 (known from Content-Length or chunks)
};

struct Frame {
  enum class State { kIncomplete, kComplete, kRefused };
  State state = State::kIncomplete;
  // The header's length with its empty line; 0 while the header is incomplete.
  size_t header_bytes = 0;
  // kComplete: the whole request's length (header and body); the bytes after it are the
  // next request's.
  size_t length = 0;
  // The header asks "Expect: 100-continue"; [expect_begin, expect_end) is that field's line.
  bool expect_continue = false;
  size_t expect_begin = 0, expect_end = 0;
  // kRefused: 400 (malformed), 413 (body too large), 431 (header too large) or 501 (a
  // transfer coding other than chunked), and why, for the answer.
  int status = 0;
  std::string message;
};

// The state of the request at the start of `in`; kIncomplete until it is whole (or refused).
Frame FrameRequest(std::string_view in, const FrameLimits& limits);

}  // namespace di
