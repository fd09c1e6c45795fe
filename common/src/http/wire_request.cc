// Request framing and parsing (RFC 9112 §3 request line, §6 message body length).
#include <utility>

#include "http/wire.h"

namespace tessera::internal {
namespace {

constexpr size_t kMaxMethodLength = 32;

HeadParse Failure(int status, std::string message) {
  HeadParse out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

// request-target in origin-form: "/" followed by visible ASCII; no fragment.
bool ValidTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  return true;
}

// "METHOD SP TARGET SP HTTP/1.x": fills method, target, path and query; sets *http10.
std::optional<HeadParse> ParseRequestLine(std::string_view line, HttpRequest* req, bool* http10) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Failure(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || method.size() > kMaxMethodLength) return Failure(400, "bad method");
  for (char c : method) {
    if (!IsTokenChar(c)) return Failure(400, "bad method");
  }
  if (!ValidTarget(target)) return Failure(400, "request target must be an absolute path");
  if (version == "HTTP/1.0") {
    *http10 = true;
  } else if (version == "HTTP/1.1") {
    *http10 = false;
  } else if (version.starts_with("HTTP/")) {
    return Failure(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  } else {
    return Failure(400, "malformed HTTP version");
  }
  req->method = std::string(method);
  req->target = std::string(target);
  size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q));
  if (!path || path->find('\0') != std::string::npos) return Failure(400, "bad path encoding");
  req->path = std::move(*path);
  if (q != std::string_view::npos) {
    auto query = ParseQuery(target.substr(q + 1));
    if (!query) return Failure(400, query.error().context);
    req->query = std::move(*query);
  }
  return std::nullopt;
}

// Content-Length, Transfer-Encoding, Connection and Expect.
std::optional<HeadParse> ApplyFraming(RequestHead* head, bool http10, size_t max_body_bytes) {
  const auto& headers = head->request.headers;
  if (headers.count("transfer-encoding") != 0) {
    return Failure(411, "Transfer-Encoding is not supported; send Content-Length");
  }
  if (auto it = headers.find("content-length"); it != headers.end()) {
    auto n = ParseContentLength(it->second);
    if (!n) return Failure(400, "bad Content-Length");
    if (*n > max_body_bytes) {
      return Failure(413, "body of " + std::to_string(*n) + " bytes exceeds the limit of " +
                              std::to_string(max_body_bytes));
    }
    head->content_length = *n;
  }
  auto conn = headers.find("connection");
  bool close = conn != headers.end() && HasToken(conn->second, "close");
  bool keep = conn != headers.end() && HasToken(conn->second, "keep-alive");
  head->keep_alive = http10 ? (keep && !close) : !close;
  if (auto it = headers.find("expect"); it != headers.end()) {
    if (ToLower(it->second) != "100-continue") return Failure(417, "unsupported Expect");
    head->expect_continue = !http10;
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> FindHeadEnd(std::string_view buffer) {
  size_t pos = buffer.find("\r\n\r\n");
  if (pos == std::string_view::npos) return std::nullopt;
  return pos + 4;
}

HeadParse ParseRequestHead(std::string_view head, size_t max_body_bytes) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Failure(400, "request line not ended by CRLF");
  RequestHead parsed;
  bool http10 = false;
  if (auto failure = ParseRequestLine(head.substr(0, eol), &parsed.request, &http10)) {
    return std::move(*failure);
  }
  if (auto error = ParseHeaderBlock(head.substr(eol + 2), &parsed.request.headers)) {
    return Failure(400, std::move(*error));
  }
  if (auto failure = ApplyFraming(&parsed, http10, max_body_bytes)) return std::move(*failure);
  HeadParse out;
  out.head = std::move(parsed);
  out.status = 0;
  return out;
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = PercentDecode(part.substr(0, eq));
    auto value = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!key || !value) return MakeError(ErrorCode::kInvalidArgument, "bad query encoding");
    if (key->find('\0') != std::string::npos || value->find('\0') != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "NUL byte in query");
    }
    if (!key->empty()) out[std::move(*key)] = std::move(*value);
  }
  return out;
}

RequestReader::State RequestReader::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return State::kError;
}

RequestReader::State RequestReader::Advance() {
  if (error_status_ != 0) return State::kError;
  if (!head_) {
    // RFC 9112 §2.2: ignore empty lines before a request line (some clients send a CRLF
    // after a body).
    size_t skip = 0;
    while (std::string_view(buffer_).substr(skip).starts_with("\r\n")) skip += 2;
    if (skip > 0) buffer_.erase(0, skip);
    auto end = FindHeadEnd(buffer_);
    if (!end) {
      if (buffer_.size() > max_header_bytes_) {
        return Fail(431, "request head exceeds " + std::to_string(max_header_bytes_) + " bytes");
      }
      return State::kNeedMore;
    }
    if (*end > max_header_bytes_) {
      return Fail(431, "request head exceeds " + std::to_string(max_header_bytes_) + " bytes");
    }
    HeadParse parsed = ParseRequestHead(std::string_view(buffer_).substr(0, *end), max_body_bytes_);
    if (!parsed.head) return Fail(parsed.status, std::move(parsed.message));
    head_ = std::move(parsed.head);
    head_size_ = *end;
    continue_pending_ = head_->expect_continue;
  }
  if (buffer_.size() - head_size_ < head_->content_length) return State::kNeedMore;
  continue_pending_ = false;
  return State::kComplete;
}

bool RequestReader::TakeContinue() { return std::exchange(continue_pending_, false); }

HttpRequest RequestReader::TakeRequest() {
  HttpRequest req = std::move(head_->request);
  size_t body_size = static_cast<size_t>(head_->content_length);
  req.body = buffer_.substr(head_size_, body_size);
  buffer_.erase(0, head_size_ + body_size);
  last_keep_alive_ = head_->keep_alive;
  head_.reset();
  head_size_ = 0;
  return req;
}

}  // namespace tessera::internal
