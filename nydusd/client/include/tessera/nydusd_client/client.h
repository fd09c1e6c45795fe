// ApiClient: typed calls to a running tesserad's control API over its unix socket.
//
// Each call is one HTTP request (docs/api.md) on a kept-alive connection, bounded by the
// timeout. Failures are Errors naming the socket and the call:
//   kUnavailable  tesserad is not running at SOCK (nothing listens, or no socket file)
//   kPermission   the socket is not accessible (it is mode 0600: run as its owner or root)
//   kTimeout      no complete answer in time
//   kCorrupt      the answer is not the documented shape
//   other codes   the daemon's own error, from its {"error": {"code", "message"}} body
//
// Thread-safety: calls may come from any thread; they are serialized on the one connection.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/http.h"
#include "tessera/common/result.h"
#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client {

struct ApiClientOptions {
  std::string socket_path = std::string(kDefaultApiSocket);
  std::chrono::milliseconds timeout{10000};
};

class ApiClient {
 public:
  explicit ApiClient(ApiClientOptions options = {});

  // GET /api/v1/daemon.
  Result<DaemonInfo> GetDaemon();
  // GET /api/v1/metrics: Prometheus text, returned as received.
  Result<std::string> GetMetrics();
  // GET /api/v1/mounts.
  Result<std::vector<MountInfo>> ListMounts();
  // POST /api/v1/mounts: returns the new mount as the daemon reports it.
  Result<MountInfo> Mount(const MountRequest& request);
  // DELETE /api/v1/mounts?mountpoint=...[&gc=true]: collect_cache also deletes the mount's
  // cache files that no other mount of the daemon uses.
  Status Unmount(std::string_view mountpoint, bool collect_cache = false);
  // PUT /api/v1/config: new registry credentials; returns how many endpoints took them.
  Result<uint64_t> UpdateRegistryAuth(const RegistryAuthUpdate& update);
  // PUT /api/v1/daemon/exit: the daemon unmounts everything and exits after answering.
  Status Exit();

  // Polls GET /api/v1/daemon until the state is "running" or the timeout passes (for a
  // freshly started daemon whose socket may not exist yet). The last error on timeout.
  Status WaitUntilRunning(std::chrono::milliseconds timeout);

  const std::string& socket_path() const { return http_.socket_path(); }

 private:
  // Sends the request; a non-2xx answer becomes its Error.
  Result<HttpResponse> Call(std::string_view method, const std::string& target,
                            std::string_view body = {});

  HttpClient http_;
};

}  // namespace tessera::nydusd::client
