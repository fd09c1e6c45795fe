// Private to the walker: a ByteSource over a file path that opens the file for each read,
// so that holding one per file of a large tree costs no file descriptors.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tessera/common/io.h"

namespace tessera::builder::internal {

class LazyFileSource final : public ByteSource {
 public:
  // `size` is the size seen when the tree was loaded; reads past it fail.
  LazyFileSource(std::string path, uint64_t size) : path_(std::move(path)), size_(size) {}

  uint64_t Size() const override { return size_; }
  // Opens (O_NOFOLLOW), checks the path is still a regular file, preads, closes. A file that
  // shrank since loading gives kOutOfRange naming the path.
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t size_;
};

}  // namespace tessera::builder::internal
