// Where a request ends in a connection's bytes (api/http_framing.h): the header, a body by
// Content-Length or by chunks, the next request after it, and the requests refused (400,
// 413, 431, 501) before their body is read.
#include "api/http_framing.h"

#include <gtest/gtest.h>

namespace di {
namespace {

using State = Frame::State;

const FrameLimits kLimits{.max_header_bytes = 256, .max_body_bytes = 100};

TEST(HttpFraming, AHeaderIsIncompleteUntilItsEmptyLine) {
  Frame f = FrameRequest("GET /health HTTP/1.1\r\nHost: x\r\n", kLimits);
  EXPECT_EQ(f.state, State::kIncomplete);
  EXPECT_EQ(f.header_bytes, 0u);
  f = FrameRequest("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", kLimits);
  EXPECT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.length, f.header_bytes);
  EXPECT_EQ(f.length, 33u);
}

TEST(HttpFraming, ARequestWithoutLengthOrChunksHasNoBody) {
  std::string next = "GET /jobs HTTP/1.1\r\n\r\n";
  Frame f = FrameRequest("POST /migrate HTTP/1.1\r\n\r\n" + next, kLimits);
  ASSERT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.length, 26u);  // the next request is not this one's body
}

TEST(HttpFraming, AContentLengthBodyEndsAtItsLength) {
  std::string head = "POST /backup HTTP/1.1\r\ncontent-LENGTH: 5\r\n\r\n";
  Frame f = FrameRequest(head + "{\"a\"", kLimits);
  EXPECT_EQ(f.state, State::kIncomplete);
  EXPECT_EQ(f.header_bytes, head.size());  // the header is whole, the body not yet
  f = FrameRequest(head + "{\"a\"}GET / HTTP/1.1\r\n\r\n", kLimits);
  ASSERT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.length, head.size() + 5);
}

TEST(HttpFraming, AChunkedBodyEndsAfterItsLastChunkAndTrailers) {
  std::string head = "POST /backup HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n";
  EXPECT_EQ(FrameRequest(head + body, kLimits).state, State::kIncomplete);
  EXPECT_EQ(FrameRequest(head + "3\r\nab", kLimits).state, State::kIncomplete);
  Frame f = FrameRequest(head + body + "\r\nnext", kLimits);
  ASSERT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.length, head.size() + body.size() + 2);
  f = FrameRequest(head + body + "X-Sum: 1\r\n\r\n", kLimits);
  ASSERT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.length, head.size() + body.size() + 12);
}

TEST(HttpFraming, ABodyOverTheLimitIsRefusedBeforeItArrives) {
  Frame f = FrameRequest("POST /b HTTP/1.1\r\nContent-Length: 101\r\n\r\n", kLimits);
  EXPECT_EQ(f.state, State::kRefused);
  EXPECT_EQ(f.status, 413);
  EXPECT_EQ(f.message, "the request body is over 100 bytes");
  EXPECT_EQ(FrameRequest("POST /b HTTP/1.1\r\nContent-Length: 100\r\n\r\n", kLimits).state,
            State::kIncomplete);
  // Chunks: refused once their sizes add up past the limit.
  std::string chunked = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(FrameRequest(chunked + "40\r\n", kLimits).state, State::kIncomplete);
  f = FrameRequest(chunked + "40\r\n" + std::string(64, 'x') + "\r\n25\r\n", kLimits);
  EXPECT_EQ(f.status, 413);
}

TEST(HttpFraming, AHeaderOverTheLimitIsRefused) {
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(300, 'x');
  Frame f = FrameRequest(big, kLimits);
  EXPECT_EQ(f.state, State::kRefused);
  EXPECT_EQ(f.status, 431);
  EXPECT_EQ(FrameRequest(big + "\r\n\r\n", kLimits).status, 431);
}

TEST(HttpFraming, MalformedFramingIsRefused) {
  auto status = [](const std::string& fields, const std::string& body = "") {
    return FrameRequest("POST /b HTTP/1.1\r\n" + fields + "\r\n" + body, kLimits).status;
  };
  EXPECT_EQ(status("Content-Length: 12x\r\n"), 400);
  EXPECT_EQ(status("Content-Length: -1\r\n"), 400);
  EXPECT_EQ(status("Content-Length: 1\r\nContent-Length: 2\r\n"), 400);
  EXPECT_EQ(status("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"), 400);
  EXPECT_EQ(status("Transfer-Encoding: gzip, chunked\r\n"), 501);
  EXPECT_EQ(status("no colon here\r\n"), 400);
  EXPECT_EQ(status("Transfer-Encoding: chunked\r\n", "zz\r\n"), 400);
  EXPECT_EQ(status("Transfer-Encoding: chunked\r\n", "1\r\nabc"), 400);      // no CRLF after it
  EXPECT_EQ(status("Content-Length: 2\r\nContent-Length: 2\r\n", "ab"), 0);  // same twice
}

TEST(HttpFraming, ExpectContinueIsFoundWithItsLine) {
  std::string head = "POST /b HTTP/1.1\r\nHost: x\r\n";
  std::string expect = "Expect: 100-continue\r\n";
  std::string in = head + expect + "Content-Length: 2\r\n\r\n";
  Frame f = FrameRequest(in, kLimits);
  EXPECT_EQ(f.state, State::kIncomplete);
  ASSERT_TRUE(f.expect_continue);
  EXPECT_EQ(in.substr(f.expect_begin, f.expect_end - f.expect_begin), expect);
  EXPECT_FALSE(FrameRequest(head + "\r\n", kLimits).expect_continue);
}

}  // namespace
}  // namespace di
