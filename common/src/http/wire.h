// HTTP/1.1 wire format: request framing and parsing (server side), response serialization,
// and response-head parsing (client side). Pure functions over bytes: no sockets, no clocks,
// so the request side can be fuzzed directly (tests/fuzz/http_request_fuzz.cc).
//
// Every input is untrusted: lengths are checked before use and numbers before conversion.
//
// Thread-safety: free functions are stateless; a RequestReader belongs to one connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/common/http.h"
#include "tessera/common/result.h"

namespace tessera::internal {

inline constexpr size_t kMaxHeaderCount = 100;

// Building blocks shared by the request and response parsers (wire_headers.cc).
bool IsTokenChar(char c);
std::string ToLower(std::string_view text);
// True if the comma-separated list contains token (case-insensitive): "keep-alive, Upgrade".
bool HasToken(std::string_view list, std::string_view token);
// Parses the header lines after the start line, each ending in CRLF, up to and including the
// empty line. Names are lower-cased; repeated names are joined with ", ", except
// Content-Length, whose repeats must agree. Returns an error message, or nullopt on success.
std::optional<std::string> ParseHeaderBlock(std::string_view block,
                                            std::map<std::string, std::string>* headers);
// A Content-Length value: digits only, at most 18 of them (no overflow).
std::optional<uint64_t> ParseContentLength(std::string_view value);

// A parsed request head (request line + headers).
struct RequestHead {
  HttpRequest request;  // all but the body
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
};

// Outcome of ParseRequestHead: `head` on success, otherwise the status to answer with
// (400, 411, 413, 417, 431, 505) and why.
struct HeadParse {
  std::optional<RequestHead> head;
  int status = 400;
  std::string message;
};

// Offset just past the "\r\n\r\n" that ends the head at the start of buffer, or nullopt.
std::optional<size_t> FindHeadEnd(std::string_view buffer);

// Parses a complete head (through its blank line). Bodies larger than max_body_bytes get 413;
// Transfer-Encoding gets 411 (only Content-Length bodies are accepted).
HeadParse ParseRequestHead(std::string_view head, size_t max_body_bytes);

// Splits "a=1&b=%2F" into a map; malformed escapes and NUL bytes are kInvalidArgument.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// Frames the requests of one connection's byte stream: append received bytes to buffer(),
// call Advance(), and on kComplete take the request with TakeRequest().
class RequestReader {
 public:
  enum class State { kNeedMore, kComplete, kError };

  RequestReader(size_t max_header_bytes, size_t max_body_bytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  std::string& buffer() { return buffer_; }
  // True when no byte of a next request has been received.
  bool Idle() const { return buffer_.empty() && !head_; }

  State Advance();
  // After kNeedMore: true exactly once for a head with "Expect: 100-continue" whose body has
  // not fully arrived (the caller then sends "100 Continue").
  bool TakeContinue();
  // After kComplete: the request with its body; its bytes leave the buffer.
  HttpRequest TakeRequest();
  // After TakeRequest(): whether the connection stays open after that request.
  bool keep_alive() const { return last_keep_alive_; }
  // After kError: the status to answer with and why (the connection is then closed).
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  State Fail(int status, std::string message);

  size_t max_header_bytes_;
  size_t max_body_bytes_;
  std::string buffer_;
  std::optional<RequestHead> head_;  // parsed head of the request being received
  size_t head_size_ = 0;
  bool continue_pending_ = false;
  bool last_keep_alive_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

// "HTTP/1.1 200 OK\r\n...\r\n\r\nbody": Content-Type and Content-Length (none for 1xx, 204,
// 304), Connection, and the response's extra headers (unsafe ones dropped).
std::string SerializeResponse(const HttpResponse& response, bool keep_alive);

// A parsed response head (client side).
struct ResponseHead {
  HttpResponse response;  // status, headers, content_type; body empty
  std::optional<uint64_t> content_length;
  bool keep_alive = true;
};

// Parses a complete response head; errors are kCorrupt (kUnsupported for chunked bodies).
Result<ResponseHead> ParseResponseHead(std::string_view head);

}  // namespace tessera::internal
