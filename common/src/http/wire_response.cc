// Response serialization (server) and response-head parsing (client); RFC 9112 §4, §6.
#include <string>

#include "http/wire.h"

namespace tessera::internal {
namespace {

bool HasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

// Headers the server sets itself, or that would break framing if a handler set them.
bool ReservedHeader(const std::string& lower_name) {
  return lower_name == "content-length" || lower_name == "content-type" ||
         lower_name == "connection" || lower_name == "transfer-encoding";
}

bool SafeHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Error Corrupt(const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, "malformed HTTP response: " + what);
}

// "HTTP/1.x SP 3DIGIT [SP reason]".
Result<int> ParseStatusLine(std::string_view line, bool* http10) {
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') {
    return Corrupt("status line '" + std::string(line.substr(0, 40)) + "'");
  }
  if (line[7] != '0' && line[7] != '1') return Corrupt("unsupported HTTP version");
  *http10 = line[7] == '0';
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return Corrupt("status code");
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || (line.size() > 12 && line[12] != ' ')) return Corrupt("status code");
  return status;
}

}  // namespace

std::string SerializeResponse(const HttpResponse& response, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out.append(HttpReasonPhrase(response.status)).append("\r\n");
  bool no_body = HasNoBody(response.status);
  if (!no_body) {
    out.append("Content-Type: ").append(response.content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  out.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  for (const auto& [name, value] : response.headers) {
    if (ReservedHeader(ToLower(name)) || !SafeHeader(name, value)) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("\r\n");
  if (!no_body) out.append(response.body);
  return out;
}

Result<ResponseHead> ParseResponseHead(std::string_view head) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Corrupt("status line not ended by CRLF");
  ResponseHead out;
  bool http10 = false;
  TRY(out.response.status, ParseStatusLine(head.substr(0, eol), &http10));
  if (auto error = ParseHeaderBlock(head.substr(eol + 2), &out.response.headers)) {
    return Corrupt(*error);
  }
  const auto& headers = out.response.headers;
  if (auto it = headers.find("transfer-encoding"); it != headers.end()) {
    return MakeError(ErrorCode::kUnsupported,
                     "HTTP response with Transfer-Encoding '" + it->second + "'");
  }
  if (auto it = headers.find("content-length"); it != headers.end()) {
    out.content_length = ParseContentLength(it->second);
    if (!out.content_length) return Corrupt("Content-Length '" + it->second + "'");
  }
  if (auto it = headers.find("content-type"); it != headers.end()) {
    out.response.content_type = it->second;
  } else {
    out.response.content_type.clear();
  }
  auto conn = headers.find("connection");
  bool close = conn != headers.end() && HasToken(conn->second, "close");
  bool keep = conn != headers.end() && HasToken(conn->second, "keep-alive");
  out.keep_alive = http10 ? (keep && !close) : !close;
  return out;
}

}  // namespace tessera::internal
