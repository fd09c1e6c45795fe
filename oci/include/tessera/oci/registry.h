// OCI distribution (registry v2) client over libcurl.
//
// One client talks to one registry host. It answers auth challenges itself (anonymous, basic,
// bearer tokens fetched from the WWW-Authenticate realm, cached per scope and renewed on 401),
// retries what is safe to retry (connect errors, resets, 429/5xx, short bodies) with exponential
// backoff up to max_retries, follows redirects (never sending registry credentials to another
// host), and reuses connections. Every blob byte handed out is either verified against its
// digest (whole-blob reads) or exactly the requested range of a content-addressed blob (range
// reads; the caller verifies chunk digests). Secrets never appear in errors or logs.
//
// Thread-safety: all methods may be called concurrently; SetCredentials takes effect for the
// next request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/oci/image.h"

namespace tessera::oci {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // a refresh token (docker config "identitytoken"), if any
  bool empty() const { return username.empty() && identity_token.empty(); }
};

// Credentials for `registry` from a docker config.json ("auths": {"host": {"auth": base64}}).
// path empty: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. Missing file or entry:
// empty credentials (not an error); a malformed file is kCorrupt.
Result<Credentials> LoadDockerCredentials(const std::string& registry,
                                          const std::string& path = {});

struct RegistryOptions {
  bool plain_http = false;    // http:// instead of https://
  bool insecure_tls = false;  // https without certificate verification
  std::string ca_file;        // extra CA bundle (PEM); system CAs otherwise
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // whole request for small documents/ranges
  std::chrono::milliseconds stall_timeout{15000};    // no bytes for this long aborts a transfer
  int max_retries = 4;
  std::chrono::milliseconds retry_backoff{100};  // doubled per retry, jittered
  uint64_t upload_chunk_size = 16u << 20;        // larger blobs are pushed in PATCH chunks
  std::string user_agent = "tessera/0.1";
};

// Controls one request: a caller may cancel it (another hedge won) or bound it tighter.
struct RequestControl {
  const std::atomic<bool>* cancel = nullptr;
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct FetchedDocument {
  std::vector<uint8_t> bytes;
  std::string media_type;  // Content-Type
  std::string digest;      // sha256 of bytes (checked against the reference if it was a digest)
};

struct RegistryStats {
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t token_fetches = 0;
};

// (bytes done, bytes total or 0)
using ProgressFn = std::function<void(uint64_t, uint64_t)>;

class RegistryClient {
 public:
  // host is "host[:port]" (docker.io is mapped to registry-1.docker.io).
  static Result<std::unique_ptr<RegistryClient>> Create(std::string host, RegistryOptions options,
                                                        Credentials credentials = {});
  ~RegistryClient();

  const std::string& host() const;
  void SetCredentials(Credentials credentials);
  RegistryStats Stats() const;

  // GET /v2/: kUnavailable if unreachable, kPermission if credentials are refused.
  Status Ping();

  // A manifest or index by tag or digest (Accept: OCI and Docker manifest/index types).
  Result<FetchedDocument> GetManifest(const std::string& repo, const std::string& ref);
  // A small blob (config), verified against digest and size.
  Result<std::vector<uint8_t>> GetBlob(const std::string& repo, const Descriptor& blob);
  // A whole blob as a stream; the final Read returns kCorrupt instead of end-of-stream if the
  // bytes do not match the descriptor's size and digest. A broken connection is resumed with a
  // Range request from where it stopped.
  Result<std::unique_ptr<ByteStream>> OpenBlob(const std::string& repo, const Descriptor& blob);
  // Exactly out.size() bytes of blob `digest` at offset (HTTP Range GET).
  Status ReadBlobRange(const std::string& repo, const std::string& digest, uint64_t offset,
                       std::span<uint8_t> out, const RequestControl& control = {});
  // Size of the blob if present, nullopt if the registry does not have it.
  Result<std::optional<uint64_t>> HeadBlob(const std::string& repo, const std::string& digest);

  // Cross-repo mount from `from_repo`; true if the registry mounted it, false if it wants an
  // upload instead.
  Result<bool> MountBlob(const std::string& repo, const std::string& digest,
                         const std::string& from_repo);
  // Uploads data as blob `blob.digest` unless the registry already has it (monolithic PUT up
  // to upload_chunk_size, chunked PATCH uploads above). Returns true if bytes were sent.
  Result<bool> PushBlob(const std::string& repo, const Descriptor& blob, const ByteSource& data,
                        const ProgressFn& progress = {});
  // PUT a manifest or index under ref (tag or digest); returns its digest.
  Result<std::string> PutManifest(const std::string& repo, const std::string& ref,
                                  std::string_view media_type, std::span<const uint8_t> bytes);

 private:
  struct Impl;
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::oci
