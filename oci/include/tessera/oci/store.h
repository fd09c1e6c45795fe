// ImageStore: one interface over the two places images live, an OCI layout directory and a
// registry repository, so tools (convert, pull) read and write images without caring which.
//
// Every document and blob read is verified against its descriptor (size and digest); Put*
// skip content the store already has.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/oci/image.h"
#include "tessera/oci/reference.h"
#include "tessera/oci/registry.h"

namespace tessera::oci {

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  // "oci:/dir:tag" or "host/repo:tag", for messages.
  virtual std::string Describe() const = 0;

  // The document the location names (its tag or digest): a manifest or an index.
  virtual Result<FetchedDocument> Resolve() = 0;
  // A manifest, index or config by descriptor (verified; at most 64 MiB).
  virtual Result<std::vector<uint8_t>> ReadDocument(const Descriptor& descriptor) = 0;
  // A layer as a verified stream (see RegistryClient::OpenBlob).
  virtual Result<std::unique_ptr<ByteStream>> OpenBlob(const Descriptor& descriptor) = 0;
  virtual Result<bool> HasBlob(const Descriptor& descriptor) = 0;

  // Stores a blob (layer or config) from a source; false if it was already there (nothing sent).
  // `mount_from` (registry stores) names a repository on the same registry to mount it from.
  virtual Result<bool> PutBlob(const Descriptor& descriptor, const ByteSource& data,
                               const ProgressFn& progress = {},
                               const std::string& mount_from = {}) = 0;
  // Stores a manifest or index by digest (not tagged).
  virtual Status PutDocument(const Descriptor& descriptor, std::span<const uint8_t> bytes) = 0;
  // Points the location's tag at a stored manifest or index.
  virtual Status Tag(const Descriptor& descriptor, std::span<const uint8_t> bytes) = 0;
};

// Opens the store for a location. create: make the layout directory if it does not exist
// (registries need nothing). Registry credentials come from `credentials`, or, if empty, from
// the docker config file. A loopback registry may use plain HTTP only when options say so.
Result<std::unique_ptr<ImageStore>> OpenImageStore(const ImageLocation& location,
                                                   const RegistryOptions& options, bool create,
                                                   const Credentials& credentials = {});

}  // namespace tessera::oci
