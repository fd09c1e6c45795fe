// One HTTP exchange over a pooled libcurl easy handle: no auth, no retries, no redirects (the
// client layers those on top). Handles go back to the pool after each request, so keep-alive
// connections, TLS sessions and DNS results are reused.
//
// Thread-safety: CurlPool is safe for concurrent use; each Perform uses its own handle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/oci/registry.h"

namespace tessera::oci::internal {

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::vector<uint8_t> body;  // collected when the request has no sink (or status is not 2xx)
  bool sink_stopped = false;  // the sink returned false (it had what it wanted, or refused)
  uint64_t bytes_sent = 0;

  // Last value of a header, or "".
  std::string Header(std::string_view name) const;
  std::vector<std::string> HeaderValues(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Request body: bytes, or body_size bytes of a source starting at body_offset.
  std::span<const uint8_t> body_bytes;
  const ByteSource* body_source = nullptr;
  uint64_t body_offset = 0;
  uint64_t body_size = 0;
  // Receives 2xx response bodies as they arrive; false stops the transfer.
  std::function<bool(const HttpResponse& head, std::span<const uint8_t> data)> sink;
  size_t max_body = 64u << 20;           // cap on a collected body (kTooLarge past it)
  std::chrono::milliseconds timeout{0};  // whole request; 0 = none
  RequestControl control;
  const std::atomic<bool>* abort = nullptr;  // internal cancel (a stream being closed)
  std::function<void(uint64_t)> on_upload;   // bytes of the body sent so far
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds stall_timeout{15000};
  std::string ca_file;
  bool insecure_tls = false;
  std::string user_agent;
};

class CurlPool {
 public:
  CurlPool() = default;
  ~CurlPool();
  CurlPool(const CurlPool&) = delete;
  CurlPool& operator=(const CurlPool&) = delete;
  void* Acquire();           // a CURL*, reset, or a new one; nullptr if curl fails
  void Release(void* easy);  // returns it (and its connections) to the pool

 private:
  std::mutex mu_;
  std::vector<void*> idle_;
};

// Performs the request. Transport failures are errors: kUnavailable (connect, reset, partial
// body: worth retrying), kTimeout, kCancelled, kPermission (TLS verification). Any HTTP status
// is a response.
Result<HttpResponse> Perform(CurlPool& pool, const TransportOptions& options,
                             const HttpRequest& request);

// True for errors a retry may cure.
bool IsRetryable(const Error& error);

// "scheme://host[:port]" of a URL (lowercased host), or "" if unparsable.
std::string UrlOrigin(const std::string& url);
// Resolves a Location header against the URL it came from.
std::string ResolveUrl(const std::string& base, const std::string& location);
// Percent-encodes a query value.
std::string UrlEscape(std::string_view value);

}  // namespace tessera::oci::internal
