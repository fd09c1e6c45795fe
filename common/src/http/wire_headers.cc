// Header-field parsing shared by the request (server) and response (client) parsers.
// RFC 9110 §5 (field syntax) and RFC 9112 §5 (field lines, no obs-fold).
#include <cstring>

#include "http/wire.h"

namespace tessera::internal {
namespace {

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// field-value characters: HTAB, SP, VCHAR and obs-text; every other control byte is refused
// (a bare CR or LF inside a line would let a peer smuggle a header).
bool IsFieldValueChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

// One "name: value" line without its CRLF.
std::optional<std::string> AddHeaderLine(std::string_view line,
                                         std::map<std::string, std::string>* headers) {
  if (line.front() == ' ' || line.front() == '\t') {
    return std::string("obsolete line folding in a header field");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::string("header line without a field name and ':'");
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!IsTokenChar(c)) return "invalid character in header field name";
  }
  std::string_view value = TrimSpaces(line.substr(colon + 1));
  for (char c : value) {
    if (!IsFieldValueChar(c)) return "control character in header field '" + ToLower(name) + "'";
  }
  std::string key = ToLower(name);
  auto [it, inserted] = headers->try_emplace(key, value);
  if (!inserted) {
    if (key == "content-length") {
      if (it->second != value) return std::string("conflicting Content-Length fields");
    } else {
      it->second.append(", ").append(value);
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = TrimSpaces(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string> ParseHeaderBlock(std::string_view block,
                                            std::map<std::string, std::string>* headers) {
  size_t count = 0;
  for (;;) {
    size_t eol = block.find("\r\n");
    if (eol == std::string_view::npos) return std::string("header block not ended by CRLF");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.empty()) break;
    if (++count > kMaxHeaderCount) {
      return "more than " + std::to_string(kMaxHeaderCount) + " header fields";
    }
    if (auto error = AddHeaderLine(line, headers)) return error;
  }
  if (!block.empty()) return std::string("bytes after the end of the header block");
  return std::nullopt;
}

std::optional<uint64_t> ParseContentLength(std::string_view value) {
  if (value.empty() || value.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');  // ≤ 18 digits: cannot overflow
  }
  return n;
}

}  // namespace tessera::internal
