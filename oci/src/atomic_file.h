// Files that appear under their final name only when complete: written to a temporary file in
// the target directory, fsynced and renamed into place.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tessera/common/io.h"
#include "tessera/common/result.h"

namespace tessera::oci::internal {

class TempFile {
 public:
  // A new temporary file in dir (removed on destruction unless committed).
  static Result<TempFile> Create(const std::string& dir);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();

  Status Write(std::span<const uint8_t> data);
  // fsyncs and renames to path.
  Status Commit(const std::string& path);

 private:
  TempFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  uint64_t size_ = 0;
};

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data);

}  // namespace tessera::oci::internal
