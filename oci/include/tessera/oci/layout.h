// OCI image layout directories (oci-layout, index.json, blobs/sha256/<hex>).
//
// Every blob read is checked against its digest (and its size, when the caller knows it); a
// mismatch is kCorrupt naming the blob. Blobs are written to a temporary file and renamed into
// place, so a crash never leaves a partial blob under its digest.
//
// Thread-safety: reads may run concurrently; writes to index.json (Tag/Untag) are serialized by
// the object but not across processes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/oci/image.h"

namespace tessera::oci {

class OciLayout {
 public:
  // Opens an existing layout (checks oci-layout's imageLayoutVersion and index.json).
  static Result<std::unique_ptr<OciLayout>> Open(const std::string& dir);
  // Opens dir as a layout, creating the directory and an empty layout if needed.
  static Result<std::unique_ptr<OciLayout>> OpenOrCreate(const std::string& dir);
  ~OciLayout();

  const std::string& dir() const;
  std::string BlobPath(std::string_view digest) const;
  bool HasBlob(std::string_view digest) const;

  // Whole blob, verified (size checked when expected_size is given).
  Result<std::vector<uint8_t>> ReadBlob(std::string_view digest,
                                        std::optional<uint64_t> expected_size = {}) const;
  // A blob as a ByteSource; its digest is NOT re-checked (streaming readers check as they go).
  Result<std::unique_ptr<ByteSource>> OpenBlob(std::string_view digest) const;

  // Stores bytes; returns the descriptor (media type as given).
  Result<Descriptor> WriteBlob(std::span<const uint8_t> data, std::string_view media_type);
  // Moves or copies the file at path into the layout (digest computed while copying).
  Result<Descriptor> ImportBlobFile(const std::string& path, std::string_view media_type);

  // The top-level index.json.
  Result<Index> ReadIndex() const;
  // The descriptor tagged `tag` (annotation org.opencontainers.image.ref.name); kNotFound if none.
  Result<Descriptor> Resolve(std::string_view tag) const;
  // Adds or replaces the entry named `tag` in index.json (written atomically).
  Status Tag(const Descriptor& manifest_or_index, std::string_view tag);

 private:
  struct Impl;
  explicit OciLayout(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::oci
