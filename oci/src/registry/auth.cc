#include "auth.h"

#include <algorithm>
#include <cctype>

#include "json_util.h"

namespace tessera::oci::internal {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void SkipSpaceAndCommas() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) ++pos_;
  }
  bool Done() const { return pos_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[pos_]; }
  void Next() { ++pos_; }
  std::string_view Token() {
    size_t start = pos_;
    while (pos_ < s_.size() && IsTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  // A quoted-string (after the opening quote was seen); false if unterminated.
  bool Quoted(std::string* out) {
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out->push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) return false;
    ++pos_;
    return true;
  }
  // True if the next token is followed by '=' (a parameter, not a new scheme).
  bool AtParam() const {
    size_t p = pos_;
    while (p < s_.size() && IsTokenChar(s_[p])) ++p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return p > pos_ && p < s_.size() && s_[p] == '=' && (p + 1 >= s_.size() || s_[p + 1] != '=');
  }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Parses "name=value" pairs after a scheme until a new scheme starts. False on garbage.
bool ParseParams(Scanner& sc, Challenge* ch) {
  while (true) {
    sc.SkipSpaceAndCommas();
    if (sc.Done() || !sc.AtParam()) return true;
    std::string name = Lower(sc.Token());
    sc.SkipSpace();
    sc.Next();  // '='
    sc.SkipSpace();
    std::string value;
    if (sc.Peek() == '"') {
      if (!sc.Quoted(&value)) return false;
    } else {
      value = std::string(sc.Token());
    }
    ch->params[name] = value;
  }
}

}  // namespace

std::vector<Challenge> ParseChallenges(std::string_view header) {
  std::vector<Challenge> out;
  Scanner sc(header);
  while (true) {
    sc.SkipSpaceAndCommas();
    if (sc.Done()) break;
    std::string_view scheme = sc.Token();
    if (scheme.empty()) break;
    Challenge ch;
    ch.scheme = Lower(scheme);
    sc.SkipSpace();
    // token68 form ("Basic abc==") carries no parameters we use; skip it.
    if (!sc.Done() && sc.Peek() != ',' && !sc.AtParam()) {
      sc.Token();
      while (sc.Peek() == '=') sc.Next();
    }
    bool ok = ParseParams(sc, &ch);
    out.push_back(std::move(ch));
    if (!ok) break;
  }
  return out;
}

std::string Base64Encode(std::span<const uint8_t> data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t v = data[i] << 16;
    if (i + 1 < data.size()) v |= data[i + 1] << 8;
    if (i + 2 < data.size()) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return MakeError(ErrorCode::kCorrupt, "base64: bad length");
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return MakeError(ErrorCode::kCorrupt, "base64: bad character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Result<Token> ParseTokenResponse(std::span<const uint8_t> body,
                                 std::chrono::steady_clock::time_point now) {
  TRY(Json doc, ParseObject(body, "token response"));
  TRY(std::string token, OptionalString(doc, "token", "token response: token"));
  if (token.empty()) {
    TRY(token, OptionalString(doc, "access_token", "token response: access_token"));
  }
  if (token.empty()) return FieldError("token response", "no token");
  int64_t ttl = 60;
  if (const Json* e = Member(doc, "expires_in")) {
    if (!e->is_number_integer()) return FieldError("token response: expires_in", "not an integer");
    ttl = std::clamp<int64_t>(e->get<int64_t>(), 1, 86400);
  }
  // Renew a little early: 10% of the lifetime, at most 30 s.
  auto margin = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(ttl * 100),
                                                    std::chrono::seconds(30));
  return Token{std::move(token), now + std::chrono::seconds(ttl) - margin};
}

std::optional<std::string> TokenCache::Get(const std::string& scope_key) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(scope_key);
  if (it == tokens_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.value;
}

void TokenCache::Put(const std::string& scope_key, Token token) {
  std::lock_guard lock(mu_);
  tokens_[scope_key] = std::move(token);
}

void TokenCache::Drop(const std::string& scope_key) {
  std::lock_guard lock(mu_);
  tokens_.erase(scope_key);
}

void TokenCache::Clear() {
  std::lock_guard lock(mu_);
  tokens_.clear();
}

}  // namespace tessera::oci::internal
