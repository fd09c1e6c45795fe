#include "client_core.h"

#include <algorithm>
#include <thread>

namespace tessera::oci::internal {
namespace {

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string ScopeKey(std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  std::string key;
  for (const auto& s : scopes) key += s + " ";
  return key;
}

}  // namespace

std::string PullScope(const std::string& repo) { return "repository:" + repo + ":pull"; }
std::string PushScope(const std::string& repo) { return "repository:" + repo + ":pull,push"; }

ClientCore::ClientCore(std::string host, std::string base_url, RegistryOptions options,
                       Credentials credentials)
    : host_(std::move(host)),
      base_url_(std::move(base_url)),
      origin_(UrlOrigin(base_url_ + "/")),
      options_(std::move(options)),
      credentials_(std::move(credentials)),
      rng_(std::random_device{}()) {
  transport_.connect_timeout = options_.connect_timeout;
  transport_.stall_timeout = options_.stall_timeout;
  transport_.ca_file = options_.ca_file;
  transport_.insecure_tls = options_.insecure_tls;
  transport_.user_agent = options_.user_agent;
}

void ClientCore::SetCredentials(Credentials credentials) {
  std::lock_guard lock(mu_);
  credentials_ = std::move(credentials);
  tokens_.Clear();
}

Credentials ClientCore::credentials() const {
  std::lock_guard lock(mu_);
  return credentials_;
}

RegistryStats ClientCore::Stats() const {
  return {requests_.load(), retries_.load(), bytes_received_.load(), bytes_sent_.load(),
          token_fetches_.load()};
}

bool ClientCore::Backoff(int attempt, const RequestControl& control,
                         const std::atomic<bool>* abort) {
  auto base = options_.retry_backoff * (1LL << std::min(attempt, 10));
  double jitter;
  {
    std::lock_guard lock(mu_);
    jitter = std::uniform_real_distribution<double>(0.5, 1.5)(rng_);
  }
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(base * jitter);
  auto until = std::chrono::steady_clock::now() + wait;
  if (control.deadline && until >= *control.deadline) return false;
  while (std::chrono::steady_clock::now() < until) {
    if ((control.cancel && control.cancel->load()) || (abort && abort->load())) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

Result<HttpResponse> ClientCore::Send(Call& call) {
  int max_retries = call.max_retries >= 0 ? call.max_retries : options_.max_retries;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 && call.reset) call.reset();
    auto r = SendOnce(call);
    bool retry = false;
    if (!r) {
      retry = IsRetryable(r.error());
    } else if (r->status == 429 || r->status >= 500) {
      retry = true;
    } else if (r->status / 100 == 2 && call.validate) {
      Status st = call.validate(*r);
      if (!st) {
        if (!IsRetryable(st.error()) || attempt >= max_retries) return st.error();
        retry = true;
      }
    }
    if (!retry || attempt >= max_retries) return r;
    if (!Backoff(attempt, call.control, call.abort)) return r;
    retries_++;
  }
}

HttpRequest ClientCore::MakeRequest(const Call& call, const std::string& url,
                                    const std::string& method) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = call.headers;
  if (method == call.method) {
    req.body_bytes = call.body_bytes;
    req.body_source = call.body_source;
    req.body_offset = call.body_offset;
    req.body_size = call.body_size;
    req.on_upload = call.on_upload;
  }
  if (call.sink) {
    req.sink = [this, &call](const HttpResponse& head, std::span<const uint8_t> data) {
      bytes_received_ += data.size();
      return call.sink(head, data);
    };
  }
  req.max_body = call.max_body;
  req.timeout = call.whole_timeout ? options_.request_timeout : std::chrono::milliseconds(0);
  req.control = call.control;
  req.abort = call.abort;
  return req;
}

Result<HttpResponse> ClientCore::SendOnce(Call& call) {
  std::string url = call.url;
  std::string method = call.method;
  bool reauthed = false;
  for (int hop = 0; hop < 10; ++hop) {
    bool same_origin = UrlOrigin(url) == origin_;
    HttpRequest req = MakeRequest(call, url, method);
    if (same_origin) {  // credentials never go to another host (blob redirects to storage)
      TRY(auto auth, AuthHeader(call.scopes));
      if (auth) req.headers.push_back(*auth);
    }
    requests_++;
    TRY(HttpResponse resp, Perform(pool_, transport_, req));
    bytes_sent_ += resp.bytes_sent;
    bytes_received_ += resp.body.size();
    if (resp.status == 401 && same_origin && !reauthed) {
      reauthed = true;
      RETURN_IF_ERROR(Authenticate(resp, call.scopes));
      if (call.reset) call.reset();
      continue;
    }
    if (!IsRedirect(resp.status) || resp.Header("location").empty()) return resp;
    url = ResolveUrl(url, resp.Header("location"));
    if (resp.status == 303) method = "GET";
    if (call.reset) call.reset();
  }
  return MakeError(ErrorCode::kUnavailable, "registry " + host_ + ": too many redirects");
}

Result<std::optional<std::string>> ClientCore::AuthHeader(const std::vector<std::string>& scopes) {
  std::optional<Challenge> bearer;
  Credentials creds;
  bool basic;
  {
    std::lock_guard lock(mu_);
    bearer = bearer_;
    creds = credentials_;
    basic = basic_;
  }
  if (bearer) {
    std::string key = ScopeKey(scopes);
    std::optional<std::string> token = tokens_.Get(key);
    if (!token) {
      TRY(Token fresh, FetchToken(*bearer, scopes));
      token = fresh.value;
      tokens_.Put(key, std::move(fresh));
    }
    return std::optional<std::string>("Authorization: Bearer " + *token);
  }
  if (basic && !creds.username.empty()) {
    std::string pair = creds.username + ":" + creds.password;
    return std::optional<std::string>(
        "Authorization: Basic " +
        Base64Encode({reinterpret_cast<const uint8_t*>(pair.data()), pair.size()}));
  }
  return std::optional<std::string>();
}

Status ClientCore::Authenticate(const HttpResponse& response,
                                const std::vector<std::string>& scopes) {
  std::vector<Challenge> challenges;
  for (const auto& h : response.HeaderValues("www-authenticate")) {
    for (auto& c : ParseChallenges(h)) challenges.push_back(std::move(c));
  }
  for (const auto& c : challenges) {
    if (c.scheme != "bearer") continue;
    if (c.Param("realm").empty()) {
      return MakeError(ErrorCode::kPermission,
                       "registry " + host_ + ": bearer challenge without a realm");
    }
    {
      std::lock_guard lock(mu_);
      bearer_ = c;
    }
    std::string key = ScopeKey(scopes);
    tokens_.Drop(key);
    TRY(Token token, FetchToken(c, scopes));
    tokens_.Put(key, std::move(token));
    return Ok();
  }
  for (const auto& c : challenges) {
    if (c.scheme != "basic") continue;
    if (credentials().username.empty()) {
      return MakeError(ErrorCode::kPermission,
                       "registry " + host_ + ": authentication required and no credentials given");
    }
    std::lock_guard lock(mu_);
    basic_ = true;
    return Ok();
  }
  return MakeError(ErrorCode::kPermission,
                   "registry " + host_ + ": 401 without a usable WWW-Authenticate challenge");
}

}  // namespace tessera::oci::internal
