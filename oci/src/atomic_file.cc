#include "atomic_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace tessera::oci::internal {

Result<TempFile> TempFile::Create(const std::string& dir) {
  std::string templ = dir + "/.tmp-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "create temporary file in " + dir);
  return TempFile(UniqueFd(fd), std::string(buf.data()));
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::move(other.path_)), size_(other.size_) {
  other.path_.clear();
}

TempFile::~TempFile() {
  if (!path_.empty()) unlink(path_.c_str());
}

Status TempFile::Write(std::span<const uint8_t> data) {
  RETURN_IF_ERROR(PwriteFull(fd_.get(), data, size_, path_));
  size_ += data.size();
  return Ok();
}

Status TempFile::Commit(const std::string& path) {
  if (fchmod(fd_.get(), 0644) != 0) return ErrnoError(errno, path_);
  if (fsync(fd_.get()) != 0) return ErrnoError(errno, path_);
  if (rename(path_.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename to " + path);
  path_.clear();
  return Ok();
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  TRY(TempFile temp, TempFile::Create(dir));
  RETURN_IF_ERROR(temp.Write(data));
  return temp.Commit(path);
}

}  // namespace tessera::oci::internal
