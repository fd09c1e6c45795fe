// A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with
// its own config, storage dir and port, optionally behind TLS with a CA made for the test, with
// htpasswd basic auth or a bearer-token flow. Stopped (SIGTERM, then SIGKILL, by PID) and its
// files removed when the object is destroyed, also when a test fails. The servers also die with
// the test process if it is killed outright (parent-death signal, which follows the thread that
// called Start: start it from a thread that outlives the object).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tessera/common/result.h"

namespace tessera::test {

struct RegistryServerOptions {
  enum class Auth { kNone, kBasic, kToken };
  bool tls = false;  // https with a self-signed CA (ca_file())
  Auth auth = Auth::kNone;
  std::string username = "tessera";
  std::string password = "s3cret-pass";
  int token_ttl_seconds = 300;  // kToken: lifetime of issued tokens
};

class RegistryServer {
 public:
  // Picks a free port, writes the config, starts the registry (and the token server for kToken)
  // and waits until /v2/ answers. kUnavailable (with the registry's stderr) if it does not.
  static Result<std::unique_ptr<RegistryServer>> Start(const RegistryServerOptions& options = {});
  ~RegistryServer();

  std::string host() const;         // "127.0.0.1:PORT"
  std::string ca_file() const;      // PEM of the test CA; empty without tls
  std::string storage_dir() const;  // the registry's filesystem storage root
  // Total body bytes the registry sent for blob GETs since start (from its access log, read
  // once it has been quiet for 150 ms: the registry logs a request after answering it).
  uint64_t BlobBytesServed() const;
  // Number of access-log lines whose request line contains `needle` (e.g. "GET /v2/").
  uint64_t CountRequests(const std::string& needle) const;
  // `skopeo copy` of an OCI layout into this registry as repo:tag (uses tls/auth settings).
  Status PushLayout(const std::string& layout_dir, const std::string& layout_tag,
                    const std::string& repo_and_tag) const;

 private:
  struct Impl;
  explicit RegistryServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::test
