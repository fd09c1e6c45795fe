// Tests of the HTTP wire format (common/src/http/wire*.cc, message.cc): framing, parsing,
// limits, serialization, %-encoding and JSON quoting.
#include <gtest/gtest.h>

#include "http/wire.h"

#include "tessera/common/http.h"

namespace tessera::internal {
namespace {

using State = RequestReader::State;

RequestReader Reader(std::string_view bytes, size_t max_header = 16384, size_t max_body = 1 << 20) {
  RequestReader r(max_header, max_body);
  r.buffer().append(bytes);
  return r;
}

int ErrorStatusOf(std::string_view bytes, size_t max_header = 16384, size_t max_body = 1 << 20) {
  RequestReader r = Reader(bytes, max_header, max_body);
  if (r.Advance() != State::kError) return 0;
  return r.error_status();
}

TEST(HttpWireTest, ParsesRequestWithQueryHeadersAndBody) {
  RequestReader r = Reader(
      "POST /api/v1/m%6Funts?mountpoint=%2Fmnt%2Fa%20b&x=1+2&flag&=skip HTTP/1.1\r\n"
      "Host: localhost\r\nX-Two: a\r\nx-two: b\r\nContent-Length: 5\r\n"
      "Content-Type:   application/json  \r\n\r\nhelloGET");
  ASSERT_EQ(r.Advance(), State::kComplete);
  HttpRequest req = r.TakeRequest();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/api/v1/mounts");
  EXPECT_EQ(req.target, "/api/v1/m%6Funts?mountpoint=%2Fmnt%2Fa%20b&x=1+2&flag&=skip");
  EXPECT_EQ(req.Query("mountpoint"), "/mnt/a b");
  EXPECT_EQ(req.Query("x"), "1+2");  // '+' is literal (RFC 3986), not a space
  EXPECT_EQ(req.Query("flag"), "");
  EXPECT_EQ(req.query.size(), 3u);
  EXPECT_EQ(req.Header("x-two"), "a, b");
  EXPECT_EQ(req.Header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(req.Header("missing"));
  EXPECT_EQ(req.body, "hello");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r.buffer(), "GET");  // the next (pipelined) request stays buffered
  EXPECT_EQ(r.Advance(), State::kNeedMore);
}

TEST(HttpWireTest, NeedsMoreUntilHeadAndBodyAreComplete) {
  std::string full = "PUT /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  RequestReader r(16384, 1 << 20);
  for (size_t i = 0; i < full.size(); ++i) {
    r.buffer().push_back(full[i]);
    EXPECT_EQ(r.Advance(), i + 1 == full.size() ? State::kComplete : State::kNeedMore) << i;
  }
  EXPECT_EQ(r.TakeRequest().body, "abc");
  EXPECT_TRUE(r.Idle());
}

TEST(HttpWireTest, KeepAliveRules) {
  auto keep = [](std::string_view bytes) {
    RequestReader r = Reader(bytes);
    EXPECT_EQ(r.Advance(), State::kComplete) << bytes;
    r.TakeRequest();
    return r.keep_alive();
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST(HttpWireTest, ExpectContinueIsReportedOnce) {
  RequestReader r = Reader("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(r.Advance(), State::kNeedMore);
  EXPECT_TRUE(r.TakeContinue());
  EXPECT_FALSE(r.TakeContinue());
  r.buffer().append("ok");
  EXPECT_EQ(r.Advance(), State::kComplete);
  EXPECT_EQ(r.TakeRequest().body, "ok");
}

TEST(HttpWireTest, SkipsEmptyLinesBeforeRequest) {
  RequestReader r = Reader("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.Advance(), State::kComplete);
  EXPECT_EQ(r.TakeRequest().path, "/a");
}

TEST(HttpWireTest, RejectsMalformedRequests) {
  EXPECT_EQ(ErrorStatusOf("GET /x\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET  /x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET http://h/x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("G(T /x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x#f HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /%zz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /%00 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x?a=%00 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatusOf("GET /x FTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nNo-Colon\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: b\rc\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: b\nC: d\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: \x01\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nExpect: magic\r\n\r\n"), 417);
}

TEST(HttpWireTest, EnforcesLimits) {
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 16384, 1024), 413);
  EXPECT_EQ(ErrorStatusOf("POST /x HTTP/1.1\r\nContent-Length: 1024\r\n\r\n", 16384, 1024), 0);
  // An unterminated head over the limit fails without waiting for the rest.
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: " + std::string(200, 'a'), 128), 431);
  EXPECT_EQ(ErrorStatusOf("GET /x HTTP/1.1\r\nA: " + std::string(200, 'a') + "\r\n\r\n", 128), 431);
  std::string many = "GET /x HTTP/1.1\r\n";
  for (int i = 0; i <= 100; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(ErrorStatusOf(many + "\r\n"), 400);
}

TEST(HttpWireTest, SerializesResponses) {
  HttpResponse r = HttpResponse::Json(201, "{}");
  r.headers["X-Id"] = "7";
  r.headers["Content-Length"] = "999";  // reserved: the server computes it
  r.headers["Bad"] = "a\r\nInjected: 1";
  EXPECT_EQ(SerializeResponse(r, true),
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: keep-alive\r\nX-Id: 7\r\n\r\n{}");
  EXPECT_EQ(SerializeResponse(HttpResponse::Empty(204), false),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST(HttpWireTest, ParsesResponseHeads) {
  auto head = ParseResponseHead(
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->response.status, 404);
  EXPECT_EQ(head->response.content_type, "application/json");
  EXPECT_EQ(head->content_length, 12u);
  EXPECT_TRUE(head->keep_alive);
  auto http10 = ParseResponseHead("HTTP/1.0 200\r\n\r\n");
  ASSERT_TRUE(http10);
  EXPECT_FALSE(http10->keep_alive);
  EXPECT_FALSE(http10->content_length);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 2x0 OK\r\n\r\n").error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(ParseResponseHead("SSH-2.0-OpenSSH\r\n\r\n").error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").error().code,
            ErrorCode::kUnsupported);
}

TEST(HttpMessageTest, PercentEncodingRoundTrips) {
  std::string raw = "/mnt/a b+c%&=?\xff";
  std::string enc = PercentEncode(raw);
  EXPECT_EQ(enc, "/mnt/a%20b%2Bc%25%26%3D%3F%FF");
  auto dec = PercentDecode(enc);
  ASSERT_TRUE(dec);
  EXPECT_EQ(*dec, raw);
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%4"));
  EXPECT_FALSE(PercentDecode("%4g"));
}

TEST(HttpMessageTest, JsonQuoteEscapesAndKeepsUtf8Valid) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(JsonQuote("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a UTF-16 surrogate
}

TEST(HttpMessageTest, ErrorVocabularyRoundTrips) {
  for (ErrorCode code :
       {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kAlreadyExists,
        ErrorCode::kCorrupt, ErrorCode::kUnsupported, ErrorCode::kIo, ErrorCode::kOutOfRange,
        ErrorCode::kTooLarge, ErrorCode::kPermission, ErrorCode::kTimeout, ErrorCode::kUnavailable,
        ErrorCode::kCancelled, ErrorCode::kInternal, ErrorCode::kFailedPrecondition}) {
    EXPECT_EQ(ErrorCodeFromApiCode(ApiErrorCode(code)), code);
  }
  EXPECT_EQ(HttpStatusForError(ErrorCode::kAlreadyExists), 409);
  EXPECT_FALSE(ErrorCodeFromApiCode("method_not_allowed"));
  HttpResponse r = ErrorResponse(MakeError(ErrorCode::kNotFound, "mount /mnt/x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"error\":{\"code\":\"not_found\",\"message\":\"not found: mount /mnt/x\"}}\n");
}

}  // namespace
}  // namespace tessera::internal
