// The registry client's engine: one logical request (a Call) becomes HTTP exchanges with
// authentication (challenge -> basic or bearer token, cached per scope, re-auth once on 401),
// redirects (credentials only to the registry's own origin) and retries with jittered
// exponential backoff for transport failures, 429 and 5xx.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "auth.h"
#include "http.h"

#include "tessera/oci/registry.h"

namespace tessera::oci::internal {

struct Call {
  std::string method = "GET";
  std::string url;  // absolute
  std::vector<std::string> headers;
  std::vector<std::string> scopes;  // token scopes ("repository:r:pull")
  std::span<const uint8_t> body_bytes;
  const ByteSource* body_source = nullptr;
  uint64_t body_offset = 0;
  uint64_t body_size = 0;
  std::function<bool(const HttpResponse&, std::span<const uint8_t>)> sink;
  std::function<void()> reset;  // before every new attempt (the sink starts over)
  // Checks a 2xx response; a retryable error (short body) makes Send try again.
  std::function<Status(const HttpResponse&)> validate;
  size_t max_body = 64u << 20;
  bool whole_timeout = true;  // bound by request_timeout (off for long streams and uploads)
  RequestControl control;
  const std::atomic<bool>* abort = nullptr;
  int max_retries = -1;  // -1: the client's option
  std::function<void(uint64_t)> on_upload;
};

class ClientCore {
 public:
  ClientCore(std::string host, std::string base_url, RegistryOptions options,
             Credentials credentials);

  const std::string& host() const { return host_; }
  const RegistryOptions& options() const { return options_; }
  std::string Url(const std::string& path) const { return base_url_ + path; }
  void SetCredentials(Credentials credentials);
  RegistryStats Stats() const;

  // Runs the call with retries. HTTP error statuses come back as responses (see StatusError).
  Result<HttpResponse> Send(Call& call);
  // The error for a non-success response: 401/403 kPermission (no secret in it), 404
  // kNotFound, 429/5xx kUnavailable, others kInvalidArgument; names `what` and the registry's
  // error code.
  Error StatusError(const HttpResponse& response, const std::string& what) const;
  // Sleeps before retry `attempt` (jittered exponential); false if the control's deadline or
  // cancel (or abort) says to stop instead.
  bool Backoff(int attempt, const RequestControl& control, const std::atomic<bool>* abort);
  void CountRetry() { retries_++; }

 private:
  Result<HttpResponse> SendOnce(Call& call);
  HttpRequest MakeRequest(const Call& call, const std::string& url, const std::string& method);
  Result<std::optional<std::string>> AuthHeader(const std::vector<std::string>& scopes);
  Status Authenticate(const HttpResponse& response, const std::vector<std::string>& scopes);
  Result<Token> FetchToken(const Challenge& challenge, const std::vector<std::string>& scopes);
  Credentials credentials() const;

  const std::string host_;
  const std::string base_url_;
  const std::string origin_;
  const RegistryOptions options_;
  TransportOptions transport_;
  CurlPool pool_;
  TokenCache tokens_;

  mutable std::mutex mu_;  // guards the fields below; never held across network I/O
  Credentials credentials_;
  std::optional<Challenge> bearer_;
  bool basic_ = false;
  std::mt19937_64 rng_;

  std::atomic<uint64_t> requests_{0}, retries_{0}, bytes_received_{0}, bytes_sent_{0},
      token_fetches_{0};
};

std::string PullScope(const std::string& repo);
std::string PushScope(const std::string& repo);

}  // namespace tessera::oci::internal
