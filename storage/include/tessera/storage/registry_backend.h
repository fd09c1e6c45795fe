// The registry backend: compressed blob bytes from an OCI registry (a Tessera image's blob
// layers), read with HTTP Range GETs through oci::RegistryClient.
//
// One primary endpoint plus mirrors, tried in order. An endpoint that fails `failure_threshold`
// times in a row is marked unhealthy for `cooldown` and moved behind the healthy ones (still
// used when nothing else answers). A request that has not answered after `hedge_delay` gets a
// twin for the same range on the next endpoint (or a second connection to the same host); the
// first complete answer wins and the other is cancelled. Transient failures (unreachable,
// reset, 5xx, short body, timeout) are retried with backoff up to `retry_limit` times; a whole
// Read never takes longer than `timeout`. The backend returns exactly the requested bytes or an
// error; chunk digests are checked by the BlobCache above it, so a lying server yields EIO,
// never wrong data. Credentials can be replaced while reads are in flight.
//
// Thread-safety: every method may be called concurrently (the cache reads from many threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/oci/registry.h"
#include "tessera/storage/cache.h"

namespace tessera::storage {

struct RegistryEndpoint {
  std::string host;         // "host[:port]"
  bool plain_http = false;  // http:// instead of https://
  bool insecure_tls = false;
  std::string ca_file;
  oci::Credentials credentials;
};

// What the backend reports for metrics (any thread).
enum class RegistryEvent { kRequest, kRetry, kHedge, kHedgeWon, kFailover, kError };
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void OnRegistryEvent(RegistryEvent event) = 0;
};

struct RegistryBackendOptions {
  std::string repo;                       // "library/debian"
  RegistryEndpoint primary;               // the image's registry
  std::vector<RegistryEndpoint> mirrors;  // tried after the primary, in order
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};     // bound on one Read, retries and hedges included
  int retry_limit = 3;                          // extra attempts after the first
  std::chrono::milliseconds retry_backoff{50};  // doubled per retry
  std::chrono::milliseconds hedge_delay{0};     // 0: no hedged requests
  int failure_threshold = 3;                    // consecutive failures marking an endpoint bad
  std::chrono::milliseconds cooldown{30000};    // how long a bad endpoint is skipped
  RegistryObserver* observer = nullptr;         // not owned; outlives the backend
};

// Where one endpoint's ranges come from. The real one wraps an oci::RegistryClient; tests give
// their own. ReadRange fills exactly out.size() bytes or fails; it returns promptly (kCancelled)
// once *control.cancel becomes true and kTimeout at control.deadline.
class RangeSource {
 public:
  virtual ~RangeSource() = default;
  virtual std::string host() const = 0;
  virtual Status ReadRange(const std::string& digest, uint64_t offset, std::span<uint8_t> out,
                           const oci::RequestControl& control) = 0;
  virtual void SetCredentials(const oci::Credentials& credentials) = 0;
};

struct EndpointHealth {
  std::string host;
  bool healthy = true;
  uint64_t requests = 0;
  uint64_t failures = 0;  // total failed requests
  uint32_t consecutive_failures = 0;
};

struct RegistryBackendStats {
  uint64_t requests = 0;    // range requests sent (hedges included)
  uint64_t retries = 0;     // attempts after a failed one
  uint64_t hedges = 0;      // hedged (second) requests fired
  uint64_t hedges_won = 0;  // of those, the ones whose answer was used
  uint64_t failovers = 0;   // requests sent to a later endpoint because an earlier one failed
                            // or was marked unhealthy
  uint64_t errors = 0;      // Reads that failed for good
  uint64_t bytes = 0;       // bytes returned by successful Reads
  std::vector<EndpointHealth> endpoints;  // primary first
};

class RegistryBackend : public BlobBackend {
 public:
  // Replaces the credentials of every endpoint (host empty) or of the endpoints with that host;
  // the next request uses them. Returns how many endpoints were updated.
  virtual size_t UpdateCredentials(const oci::Credentials& credentials,
                                   const std::string& host = {}) = 0;
  virtual RegistryBackendStats Stats() const = 0;
};

// Blob id (hex) -> "sha256:<id>" on the registry. Fails (kInvalidArgument) without a host or
// repo, and with an unusable endpoint (bad CA file, ...).
Result<std::unique_ptr<RegistryBackend>> MakeRegistryBackend(const RegistryBackendOptions& options);

// The same policy over given sources (sources[0] is the primary). For tests and other
// transports; options' endpoints and repo are ignored.
std::unique_ptr<RegistryBackend> MakeRegistryBackendFromSources(
    std::vector<std::shared_ptr<RangeSource>> sources, const RegistryBackendOptions& options);

}  // namespace tessera::storage
