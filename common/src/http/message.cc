// HttpRequest/HttpResponse helpers, the API error vocabulary, %-encoding and JSON quoting.
#include <cstdio>

#include "http/wire.h"

#include "tessera/common/http.h"

namespace tessera {
namespace {

struct ApiErrorEntry {
  ErrorCode code;
  std::string_view name;
  int status;
};

// One table: ErrorCode <-> API error code <-> HTTP status (docs/api.md, "Errors").
constexpr ApiErrorEntry kApiErrors[] = {
    {ErrorCode::kInvalidArgument, "invalid_argument", 400},
    {ErrorCode::kNotFound, "not_found", 404},
    {ErrorCode::kAlreadyExists, "already_exists", 409},
    {ErrorCode::kCorrupt, "corrupt", 422},
    {ErrorCode::kUnsupported, "unsupported", 501},
    {ErrorCode::kIo, "io", 500},
    {ErrorCode::kOutOfRange, "out_of_range", 400},
    {ErrorCode::kTooLarge, "too_large", 413},
    {ErrorCode::kPermission, "permission_denied", 403},
    {ErrorCode::kTimeout, "timeout", 504},
    {ErrorCode::kUnavailable, "unavailable", 503},
    {ErrorCode::kCancelled, "cancelled", 503},
    {ErrorCode::kInternal, "internal", 500},
    {ErrorCode::kFailedPrecondition, "failed_precondition", 409},
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence at the start of s (s[0] >= 0x80), or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s) {
  auto b0 = static_cast<unsigned char>(s[0]);
  size_t n = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 <= 0xdf ? 2 : 0;
  if (n == 0 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
  }
  auto b1 = static_cast<unsigned char>(s[1]);
  if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 >= 0xa0)) return 0;  // overlong, surrogate
  if ((b0 == 0xf0 && b1 < 0x90) || (b0 == 0xf4 && b1 >= 0x90)) return 0;  // overlong, > U+10FFFF
  return n;
}

void AppendJsonAscii(char c, std::string* out) {
  switch (c) {
    case '"':
      *out += "\\\"";
      return;
    case '\\':
      *out += "\\\\";
      return;
    case '\n':
      *out += "\\n";
      return;
    case '\r':
      *out += "\\r";
      return;
    case '\t':
      *out += "\\t";
      return;
    default:
      break;
  }
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
    *out += buf;
  } else {
    out->push_back(c);
  }
}

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  auto it = headers.find(internal::ToLower(name));
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> HttpRequest::Query(std::string_view key) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Empty(int status) {
  HttpResponse r;
  r.status = status;
  return r;
}

HttpResponse HttpResponse::JsonError(int status, std::string_view code, std::string_view message) {
  return Json(status, "{\"error\":{\"code\":" + JsonQuote(code) +
                          ",\"message\":" + JsonQuote(message) + "}}\n");
}

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string_view ApiErrorCode(ErrorCode code) {
  for (const auto& e : kApiErrors) {
    if (e.code == code) return e.name;
  }
  return "internal";
}

std::optional<ErrorCode> ErrorCodeFromApiCode(std::string_view api_code) {
  for (const auto& e : kApiErrors) {
    if (e.name == api_code) return e.code;
  }
  return std::nullopt;
}

int HttpStatusForError(ErrorCode code) {
  for (const auto& e : kApiErrors) {
    if (e.code == code) return e.status;
  }
  return 500;
}

HttpResponse ErrorResponse(const Error& error) {
  return HttpResponse::JsonError(HttpStatusForError(error.code), ApiErrorCode(error.code),
                                 error.ToString());
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (Unreserved(c) || c == '/') {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    int lo = hi >= 0 ? HexDigit(text[i + 2]) : -1;
    if (lo < 0) {
      return MakeError(ErrorCode::kInvalidArgument, "bad %-escape at offset " + std::to_string(i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x80) {
      size_t n = Utf8SequenceLength(text.substr(i));
      // Invalid UTF-8 (a path with stray bytes) becomes U+FFFD so the JSON stays valid.
      out.append(n == 0 ? std::string_view("\\ufffd") : text.substr(i, n));
      i += n == 0 ? 1 : n;
      continue;
    }
    AppendJsonAscii(static_cast<char>(u), &out);
    ++i;
  }
  out.push_back('"');
  return out;
}

}  // namespace tessera
