// The tesserad control API: value types, their JSON encoding, and the endpoint paths.
//
// This header is the contract between tesserad (which serves the API) and its clients
// (tesseractl, the snapshotter, the shim). docs/api.md describes the same shapes for people
// and curl; both sides encode and decode through the functions here, so they agree by
// construction. Decoders accept unknown fields (forward compatibility) and reject wrong types
// or missing required fields with kCorrupt (responses) / kInvalidArgument (requests), naming
// the field ("mounts[1].mountpoint").
//
// Thread-safety: plain value types and stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/http.h"
#include "tessera/common/result.h"

namespace tessera::nydusd::client {

inline constexpr std::string_view kDefaultApiSocket = "/run/tesserad/api.sock";

// Endpoint paths (docs/api.md).
inline constexpr std::string_view kDaemonPath = "/api/v1/daemon";           // GET
inline constexpr std::string_view kDaemonExitPath = "/api/v1/daemon/exit";  // PUT
inline constexpr std::string_view kMetricsPath = "/api/v1/metrics";         // GET
inline constexpr std::string_view kMountsPath = "/api/v1/mounts";           // GET, POST, DELETE
inline constexpr std::string_view kConfigPath = "/api/v1/config";           // PUT

// Daemon states: "starting" (API up, first image not served yet), "running", "stopping".
inline constexpr std::string_view kStateStarting = "starting";
inline constexpr std::string_view kStateRunning = "running";
inline constexpr std::string_view kStateStopping = "stopping";

// Health of one registry endpoint of a mount (registry backend).
struct RegistryEndpointInfo {
  std::string host;
  bool healthy = true;  // false while cooling down after repeated failures
  uint64_t requests = 0;
  uint64_t failures = 0;

  bool operator==(const RegistryEndpointInfo&) const = default;
};

// One image served by the daemon.
struct MountInfo {
  std::string mountpoint;  // absolute path of the FUSE mount (or virtio-fs tag for "virtiofs")
  std::string bootstrap;   // absolute path of the image bootstrap
  std::string blob_dir;    // directory of blob files (localfs backend)
  std::string cache_dir;   // where this image's cache files live
  std::string transport = "fuse";  // "fuse" | "virtiofs"
  int64_t mounted_at = 0;          // unix seconds
  uint64_t chunks_ready = 0;       // chunks present in the cache
  uint64_t chunks_total = 0;       // chunks in the image
  // All chunks are cached: the kernel can mount the bootstrap with the cache files as devices.
  bool fully_cached = false;
  std::string backend;  // "localfs" | "registry" (empty from older daemons)
  std::string image;    // registry backend: the image reference
  std::vector<RegistryEndpointInfo> registry_endpoints;  // primary first, then mirrors

  bool operator==(const MountInfo&) const = default;
};

// What the daemon was started with (a summary; not the whole config).
struct DaemonConfigSummary {
  std::string backend;             // "localfs", later "registry", ...
  std::string cache_dir;           // default cache directory
  uint64_t cache_limit_bytes = 0;  // 0: unlimited
  uint32_t threads = 0;            // FUSE worker threads
  bool prefetch = false;           // prefetch enabled
  bool validate_digests = true;    // chunks are checked against their sha256

  bool operator==(const DaemonConfigSummary&) const = default;
};

// GET /api/v1/daemon.
struct DaemonInfo {
  std::string version;  // "0.1.0"
  std::string state;    // kStateStarting | kStateRunning | kStateStopping
  int64_t pid = 0;
  std::string apisock;
  int64_t started_at = 0;       // unix seconds
  uint64_t uptime_seconds = 0;  // at the time of the response
  std::vector<MountInfo> mounts;
  DaemonConfigSummary config;

  bool operator==(const DaemonInfo&) const = default;
};

// POST /api/v1/mounts: serve one more image.
struct MountRequest {
  std::string mountpoint;                   // required, absolute
  std::string bootstrap;                    // required without image, absolute
  std::string blob_dir;                     // required without image, absolute
  std::string cache_dir;                    // optional, absolute; empty: the daemon's default
  std::vector<std::string> prefetch_files;  // optional: absolute paths inside the image
  bool prefetch_all = false;                // optional: fetch the whole image in background
  std::string image;  // registry image reference instead of bootstrap + blob_dir
  // Registry settings as a JSON object (the keys of the config file's registry "backend"
  // object: scheme, insecure, ca_file, auth, timeout_ms, mirrors, ...); empty: defaults.
  std::string registry;

  bool operator==(const MountRequest&) const = default;
};

// PUT /api/v1/config: new registry credentials for running mounts, without remounting.
struct RegistryAuthUpdate {
  std::string mountpoint;  // optional: only this mount (default: every registry mount)
  std::string host;        // optional: only endpoints with this host
  std::string username;
  std::string password;

  bool operator==(const RegistryAuthUpdate&) const = default;
};

// JSON text for each type. indent < 0: compact, one line; ≥ 0: pretty with that indent.
std::string EncodeDaemonInfo(const DaemonInfo& info, int indent = -1);
std::string EncodeMountInfo(const MountInfo& mount, int indent = -1);
// {"mounts": [...]}, the body of GET /api/v1/mounts.
std::string EncodeMountList(const std::vector<MountInfo>& mounts, int indent = -1);
std::string EncodeMountRequest(const MountRequest& request, int indent = -1);
// {"registry_auth": {"username", "password"}, "mountpoint"?, "host"?}
std::string EncodeRegistryAuthUpdate(const RegistryAuthUpdate& update);
Result<RegistryAuthUpdate> DecodeRegistryAuthUpdate(std::string_view json);

// Decoders of responses: errors are kCorrupt naming the field.
Result<DaemonInfo> DecodeDaemonInfo(std::string_view json);
Result<MountInfo> DecodeMountInfo(std::string_view json);
Result<std::vector<MountInfo>> DecodeMountList(std::string_view json);
// Decoder of the POST body (daemon side): errors are kInvalidArgument naming the field;
// required paths must be non-empty and absolute.
Result<MountRequest> DecodeMountRequest(std::string_view json);

// The Error an unsuccessful (non-2xx) response carries: the code from the body's
// {"error": {"code", "message"}} (or from the HTTP status if the body is not that shape), and a
// context "<what>: <message>", e.g. "POST /api/v1/mounts: already exists: /mnt/a".
Error DecodeErrorResponse(const HttpResponse& response, std::string_view what);

}  // namespace tessera::nydusd::client
