// Registry authentication pieces: WWW-Authenticate challenge parsing, base64, and the token
// cache. The request flow that uses them lives in client.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::oci::internal {

struct Challenge {
  std::string scheme;                         // lowercased: "basic", "bearer"
  std::map<std::string, std::string> params;  // names lowercased ("realm", "service", "scope")
  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Parses one WWW-Authenticate header value (several challenges may share it, comma-separated).
// Malformed parts end the parse; what was understood before them is returned.
std::vector<Challenge> ParseChallenges(std::string_view header);

std::string Base64Encode(std::span<const uint8_t> data);
// kCorrupt on characters outside the alphabet or a bad length/padding.
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

// A bearer token and when the client should stop using it.
struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};

// Decodes a token endpoint response ({"token"|"access_token", "expires_in"}); tokens are kept
// for expires_in (default 60 s) minus a safety margin.
Result<Token> ParseTokenResponse(std::span<const uint8_t> body,
                                 std::chrono::steady_clock::time_point now);

// Tokens by scope key. Thread-safe.
class TokenCache {
 public:
  std::optional<std::string> Get(const std::string& scope_key);
  void Put(const std::string& scope_key, Token token);
  void Drop(const std::string& scope_key);
  void Clear();

 private:
  std::mutex mu_;
  std::map<std::string, Token> tokens_;
};

}  // namespace tessera::oci::internal
