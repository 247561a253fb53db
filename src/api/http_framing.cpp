#include "api/http_framing.h"

#include <cstdint>
#include <optional>

#include "core/strings.h"

namespace di {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxChunkLine = 1024;  // a chunk's size line, extensions included

Frame Refused(Frame f, int status, std::string message) {
  f.state = Frame::State::kRefused;
  f.status = status;
  f.message = std::move(message);
  return f;
}

Frame BodyTooLarge(Frame f, const FrameLimits& limits) {
  return Refused(f, 413,
                 "the request body is over " + std::to_string(limits.max_body_bytes) + " bytes");
}

// What the header says of the body.
struct BodyFraming {
  bool chunked = false;
  std::optional<uint64_t> length;  // Content-Length
};

// Why a request is refused: its status and the answer's message.
struct Refusal {
  int status;
  std::string message;
};

// One header field line starting at `begin`.
std::optional<Refusal> ReadField(std::string_view line, size_t begin, Frame& f, BodyFraming& body) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return Refusal{400, "a header line without a field name"};
  std::string name = ToLower(line.substr(0, colon));
  std::string value = ToLower(Trim(line.substr(colon + 1)));
  if (name == "content-length") {
    auto n =
        !value.empty() && value.size() <= 18 && AllDigits(value) ? ParseInt64(value) : std::nullopt;
    if (!n || (body.length && *body.length != static_cast<uint64_t>(*n)))
      return Refusal{400, "Content-Length is not one whole number"};
    body.length = static_cast<uint64_t>(*n);
  } else if (name == "transfer-encoding") {
    if (value != "chunked") return Refusal{501, "only the chunked transfer coding is supported"};
    body.chunked = true;
  } else if (name == "expect" && value == "100-continue") {
    f.expect_continue = true;
    f.expect_begin = begin;
    f.expect_end = begin + line.size() + kCrlf.size();
  }
  return std::nullopt;
}

// The fields of the header (its request line skipped).
std::optional<Refusal> ReadFields(std::string_view in, Frame& f, BodyFraming& body) {
  size_t pos = in.find(kCrlf) + kCrlf.size();
  while (pos + kCrlf.size() < f.header_bytes) {
    size_t eol = in.find(kCrlf, pos);
    if (auto refused = ReadField(in.substr(pos, eol - pos), pos, f, body)) return refused;
    pos = eol + kCrlf.size();
  }
  if (body.chunked && body.length) return Refusal{400, "both Content-Length and Transfer-Encoding"};
  return std::nullopt;
}

// A chunk's size line: hexadecimal digits, then optional extensions after ';'.
std::optional<uint64_t> ChunkSize(std::string_view line) {
  std::string_view digits = Trim(line.substr(0, line.find(';')));
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    int d = HexDigitValue(c);
    if (d < 0) return std::nullopt;
    n = n << 4 | static_cast<uint64_t>(d);
  }
  return n;
}

// After the last chunk: trailer fields up to an empty line.
Frame Trailers(std::string_view in, size_t pos, Frame f, const FrameLimits& limits) {
  for (;;) {
    size_t eol = in.find(kCrlf, pos);
    if (eol == std::string_view::npos)
      return in.size() - pos > limits.max_header_bytes
                 ? Refused(f, 431, "the trailer fields are too large")
                 : f;
    if (eol == pos) {
      f.state = Frame::State::kComplete;
      f.length = eol + kCrlf.size();
      return f;
    }
    pos = eol + kCrlf.size();
  }
}

// A chunked body from `pos`: complete once its last chunk and trailers are in.
Frame Chunks(std::string_view in, Frame f, const FrameLimits& limits) {
  uint64_t total = 0;
  for (size_t pos = f.header_bytes;;) {
    size_t eol = in.find(kCrlf, pos);
    if (eol == std::string_view::npos)
      return in.size() - pos > kMaxChunkLine ? Refused(f, 400, "a chunk size line is too long") : f;
    auto size = ChunkSize(in.substr(pos, eol - pos));
    if (!size) return Refused(f, 400, "a chunk size is not a hexadecimal number");
    pos = eol + kCrlf.size();
    if (*size == 0) return Trailers(in, pos, f, limits);
    total += *size;
    if (total > limits.max_body_bytes) return BodyTooLarge(f, limits);
    if (in.size() - pos < *size + kCrlf.size()) return f;
    if (in.substr(pos + *size, kCrlf.size()) != kCrlf)
      return Refused(f, 400, "a chunk does not end where its size says");
    pos += *size + kCrlf.size();
  }
}

}  // namespace

Frame FrameRequest(std::string_view in, const FrameLimits& limits) {
  Frame f;
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > limits.max_header_bytes)
    return end == std::string_view::npos && in.size() <= limits.max_header_bytes
               ? f
               : Refused(f, 431,
                         "the request header is over " + std::to_string(limits.max_header_bytes) +
                             " bytes");
  f.header_bytes = end + 4;
  BodyFraming body;
  if (auto refused = ReadFields(in, f, body))
    return Refused(f, refused->status, std::move(refused->message));
  if (body.chunked) return Chunks(in, f, limits);
  uint64_t length = body.length.value_or(0);
  if (length > limits.max_body_bytes) return BodyTooLarge(f, limits);
  if (in.size() - f.header_bytes < length) return f;
  f.state = Frame::State::kComplete;
  f.length = f.header_bytes + length;
  return f;
}

}  // namespace di
