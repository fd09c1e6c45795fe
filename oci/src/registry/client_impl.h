// RegistryClient's private state, shared by the files that implement it.
#pragma once

#include "client_core.h"

#include "tessera/oci/registry.h"

namespace tessera::oci {

struct RegistryClient::Impl {
  template <typename... Args>
  explicit Impl(Args&&... args) : core(std::forward<Args>(args)...) {}
  internal::ClientCore core;
};

namespace internal {
inline std::string BlobPath(const std::string& repo, const std::string& digest) {
  return "/v2/" + repo + "/blobs/" + digest;
}
}  // namespace internal

}  // namespace tessera::oci
