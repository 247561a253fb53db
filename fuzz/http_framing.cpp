// libFuzzer target: where an HTTP/1.1 request ends (api/http_framing.h), on the bytes a
// client sent, with limits the input picks (its last two bytes). A complete request must lie
// within the bytes, be complete on its own bytes and not before its last byte; a refusal
// carries one of the statuses the gate answers; the Expect line lies within the header.
#include <fuzzer/FuzzedDataProvider.h>

#include "api/http_framing.h"
#include "fuzz/fuzz_support.h"

using di::Frame;
using di::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  di::FrameLimits limits;
  limits.max_header_bytes = 16 + in.ConsumeIntegral<uint8_t>() * 4u;
  limits.max_body_bytes = in.ConsumeIntegral<uint8_t>() * 8u;
  const std::string bytes = in.ConsumeRemainingBytesAsString();

  const Frame f = di::FrameRequest(bytes, limits);
  switch (f.state) {
    case Frame::State::kIncomplete:
      break;
    case Frame::State::kRefused:
      Check(f.status == 400 || f.status == 413 || f.status == 431 || f.status == 501,
            "a refusal with status " + std::to_string(f.status));
      Check(!f.message.empty(), "a refusal without a message");
      break;
    case Frame::State::kComplete: {
      Check(f.header_bytes > 0 && f.header_bytes <= f.length && f.length <= bytes.size(),
            "a complete request outside the bytes");
      const Frame alone = di::FrameRequest(std::string_view(bytes).substr(0, f.length), limits);
      Check(alone.state == Frame::State::kComplete && alone.length == f.length,
            "a request is not complete on its own bytes");
      const Frame early = di::FrameRequest(std::string_view(bytes).substr(0, f.length - 1), limits);
      Check(early.state != Frame::State::kComplete, "a request complete before its last byte");
      break;
    }
  }
  if (f.expect_continue)
    Check(f.expect_begin < f.expect_end && f.expect_end <= f.header_bytes,
          "the Expect line lies outside the header");
  return 0;
}
