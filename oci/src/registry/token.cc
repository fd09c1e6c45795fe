// Bearer tokens from the realm of a registry's challenge (docker token auth): GET with basic
// credentials (or anonymous), or an OAuth2 refresh-token POST when an identity token is set.
// Also the mapping from HTTP statuses to errors. No secret is put into any message.
#include <algorithm>

#include "client_core.h"
#include "json_util.h"

namespace tessera::oci::internal {
namespace {

std::string ScopeQuery(const Challenge& challenge, const std::vector<std::string>& scopes) {
  std::string q;
  auto add = [&q](const std::string& key, const std::string& value) {
    q += (q.empty() ? "" : "&") + key + "=" + UrlEscape(value);
  };
  if (!challenge.Param("service").empty()) add("service", challenge.Param("service"));
  std::vector<std::string> all = scopes;
  std::string from_challenge = challenge.Param("scope");
  size_t start = 0;
  while (start < from_challenge.size()) {  // space-separated in the challenge
    size_t end = from_challenge.find(' ', start);
    std::string s = from_challenge.substr(start, end == std::string::npos ? end : end - start);
    if (!s.empty() && std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (const auto& s : all) add("scope", s);
  return q;
}

}  // namespace

Result<Token> ClientCore::FetchToken(const Challenge& challenge,
                                     const std::vector<std::string>& scopes) {
  std::string realm = challenge.Param("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return MakeError(ErrorCode::kPermission, "registry " + host_ + ": token realm is not http(s)");
  }
  Credentials creds = credentials();
  std::string query = ScopeQuery(challenge, scopes);
  HttpRequest req;
  std::string form;
  if (!creds.identity_token.empty()) {
    req.method = "POST";
    req.url = realm;
    form = query + "&grant_type=refresh_token&client_id=tessera&refresh_token=" +
           UrlEscape(creds.identity_token);
    req.body_bytes = {reinterpret_cast<const uint8_t*>(form.data()), form.size()};
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
    if (!creds.username.empty()) {
      std::string pair = creds.username + ":" + creds.password;
      req.headers.push_back(
          "Authorization: Basic " +
          Base64Encode({reinterpret_cast<const uint8_t*>(pair.data()), pair.size()}));
    }
  }
  req.timeout = options_.request_timeout;
  req.max_body = 1u << 20;
  token_fetches_++;
  requests_++;
  std::string where = "registry " + host_ + ": token endpoint " + UrlOrigin(realm);
  auto resp = Perform(pool_, transport_, req);
  if (!resp) return resp.error().Wrap(where);
  if (resp->status == 401 || resp->status == 403) {
    std::string who = creds.username.empty() ? "anonymous access"
                                             : "the credentials of user '" + creds.username + "'";
    return MakeError(ErrorCode::kPermission,
                     where + " refused " + who + " (HTTP " + std::to_string(resp->status) + ")");
  }
  if (resp->status != 200) return StatusError(*resp, where);
  auto token = ParseTokenResponse(resp->body, std::chrono::steady_clock::now());
  if (!token) return token.error().Wrap(where);
  return token;
}

Error ClientCore::StatusError(const HttpResponse& response, const std::string& what) const {
  std::string msg = what + ": HTTP " + std::to_string(response.status);
  std::string summary;
  {
    Json doc = Json::parse(response.body.begin(), response.body.end(), nullptr, false);
    const Json* errors = Member(doc, "errors");
    if (errors != nullptr && errors->is_array() && !errors->empty()) {
      auto code = OptionalString((*errors)[0], "code", "code");
      auto message = OptionalString((*errors)[0], "message", "message");
      if (code) summary += *code;
      if (message && !message->empty()) summary += (summary.empty() ? "" : ": ") + *message;
    }
  }
  if (summary.size() > 200) summary.resize(200);
  if (!summary.empty()) msg += " (" + summary + ")";
  switch (response.status) {
    case 401:
    case 403: {
      Credentials creds = credentials();
      msg += creds.empty() ? ": access denied without credentials"
                           : ": access denied for user '" + creds.username + "'";
      return MakeError(ErrorCode::kPermission, msg);
    }
    case 404:
      return MakeError(ErrorCode::kNotFound, msg);
    case 416:
      return MakeError(ErrorCode::kOutOfRange, msg);
    case 429:
      return MakeError(ErrorCode::kUnavailable, msg);
    default:
      return MakeError(
          response.status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument, msg);
  }
}

}  // namespace tessera::oci::internal
