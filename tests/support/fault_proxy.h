// FaultProxy: an HTTP/1.1 forwarding proxy on 127.0.0.1 for fault-injection tests. It forwards
// each request to an upstream host:port (one upstream connection per request) and returns the
// answer, unless a fault is armed: then it resets the connection, delays, truncates, flips a
// body byte, answers 503 or stalls, for every matching request or for the next K of them.
// By default only blob range requests (GET .../blobs/sha256:... with a Range header) match, so
// manifest and token traffic passes untouched.
//
// Thread-safety: all methods may be called from any thread; the proxy runs its own threads and
// joins them in the destructor (stalled connections are released then).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tessera/common/result.h"

namespace tessera::test {

struct Fault {
  enum class Mode { kPass, kReset, kDelay, kTruncate, kFlipByte, k503, kStall };
  Mode mode = Mode::kPass;
  // kReset / kTruncate: body bytes sent before the connection is reset / closed.
  // kFlipByte: index of the flipped body byte (modulo the body size).
  uint64_t after_bytes = 0;
  std::chrono::milliseconds delay{0};  // kDelay
  int count = -1;                      // matching requests to fault; -1: all of them
  bool ranges_only = true;             // match only blob range requests
};

struct FaultCounters {
  uint64_t requests = 0;        // requests received
  uint64_t range_requests = 0;  // of those, blob range requests
  uint64_t faulted = 0;         // requests a fault was applied to
  uint64_t resets = 0, delays = 0, truncations = 0, flips = 0, unavailable = 0, stalls = 0;
  uint64_t body_bytes = 0;  // response body bytes sent to clients
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1 (ephemeral port) and forwards to `upstream` ("127.0.0.1:PORT").
  static Result<std::unique_ptr<FaultProxy>> Start(const std::string& upstream);
  ~FaultProxy();

  std::string host() const;  // "127.0.0.1:PORT"
  void SetFault(const Fault& fault);
  void Clear() { SetFault(Fault{}); }
  FaultCounters counters() const;

  struct Impl;

 private:
  explicit FaultProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::test
