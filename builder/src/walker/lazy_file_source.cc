#include "walker/lazy_file_source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace tessera::builder::internal {

Status LazyFileSource::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return MakeError(ErrorCode::kOutOfRange, path_ + ": read of " + std::to_string(out.size()) +
                                                 " bytes at offset " + std::to_string(offset) +
                                                 " past size " + std::to_string(size_));
  }
  if (out.empty()) return Ok();
  TRY(UniqueFd fd, UniqueFd::Open(path_, O_RDONLY | O_NOFOLLOW));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, "fstat " + path_);
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path_ + ": no longer a regular file");
  }
  return PreadFull(fd.get(), out, offset, path_);
}

}  // namespace tessera::builder::internal
