#include "tessera/common/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tessera {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> UniqueFd::Open(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError(errno, "open " + path);
  return UniqueFd(fd);
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept : addr_(other.addr_), size_(other.size_) {
  other.addr_ = nullptr;
  other.size_ = 0;
}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = other.addr_;
    size_ = other.size_;
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

Result<MappedRegion> MappedRegion::MapFile(const std::string& path) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, "stat " + path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  MappedRegion region;
  if (st.st_size == 0) return region;
  void* addr =
      ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return ErrnoError(errno, "mmap " + path);
  region.addr_ = addr;
  region.size_ = static_cast<size_t>(st.st_size);
  return region;
}

Status ByteSink::WriteZeros(uint64_t n) {
  static constexpr size_t kChunk = 64 * 1024;
  const std::vector<uint8_t> zeros(static_cast<size_t>(std::min<uint64_t>(n, kChunk)), 0);
  while (n > 0) {
    size_t step = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
    RETURN_IF_ERROR(Write({zeros.data(), step}));
    n -= step;
  }
  return Ok();
}

Status PreadFull(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read " + what + " at offset " + std::to_string(offset + done));
    }
    if (n == 0) {
      return MakeError(
          ErrorCode::kOutOfRange,
          "read " + what + ": unexpected end of file at offset " + std::to_string(offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Status PwriteFull(int fd, std::span<const uint8_t> data, uint64_t offset, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write " + what + " at offset " + std::to_string(offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, "stat " + path);
  return std::unique_ptr<FileSource>(
      new FileSource(std::move(fd), static_cast<uint64_t>(st.st_size), path));
}

Status FileSource::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return MakeError(ErrorCode::kOutOfRange, path_ + ": read of " + std::to_string(out.size()) +
                                                 " bytes at offset " + std::to_string(offset) +
                                                 " past size " + std::to_string(size_));
  }
  return PreadFull(fd_.get(), out, offset, path_);
}

MemorySource::MemorySource(std::vector<uint8_t> owned) : owned_(std::move(owned)) {
  data_ = owned_;
}

Status MemorySource::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > data_.size() || out.size() > data_.size() - offset) {
    return MakeError(ErrorCode::kOutOfRange,
                     "memory source: read of " + std::to_string(out.size()) + " bytes at offset " +
                         std::to_string(offset) + " past size " + std::to_string(data_.size()));
  }
  if (!out.empty()) std::memcpy(out.data(), data_.data() + offset, out.size());
  return Ok();
}

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path, mode_t mode) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return std::unique_ptr<FileSink>(new FileSink(std::move(fd), path));
}

FileSink::~FileSink() { (void)Flush(); }

Status FileSink::Write(std::span<const uint8_t> data) {
  static constexpr size_t kBufferLimit = 1 << 20;
  if (buffer_.size() + data.size() > kBufferLimit) RETURN_IF_ERROR(Flush());
  if (data.size() >= kBufferLimit) {
    RETURN_IF_ERROR(PwriteFull(fd_.get(), data, position_, path_));
  } else {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
  }
  position_ += data.size();
  return Ok();
}

Status FileSink::Flush() {
  if (buffer_.empty() || !fd_.valid()) return Ok();
  uint64_t start = position_ - buffer_.size();
  Status st = PwriteFull(fd_.get(), buffer_, start, path_);
  buffer_.clear();
  return st;
}

Status FileSink::Sync() {
  RETURN_IF_ERROR(Flush());
  if (::fsync(fd_.get()) != 0) return ErrnoError(errno, "fsync " + path_);
  return Ok();
}

Status ReadExact(ByteStream& in, std::span<uint8_t> out, const std::string& what) {
  size_t done = 0;
  while (done < out.size()) {
    TRY(size_t n, in.Read(out.subspan(done)));
    if (n == 0) {
      return MakeError(ErrorCode::kOutOfRange, what + ": stream ended after " +
                                                   std::to_string(done) + " of " +
                                                   std::to_string(out.size()) + " bytes");
    }
    done += n;
  }
  return Ok();
}

Result<size_t> FdStream::Read(std::span<uint8_t> out) {
  for (;;) {
    ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError(errno, "read " + name_);
  }
}

Status VectorSink::Write(std::span<const uint8_t> data) {
  data_.insert(data_.end(), data.begin(), data.end());
  return Ok();
}

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  TRY(auto source, FileSource::Open(path));
  std::vector<uint8_t> data(static_cast<size_t>(source->Size()));
  RETURN_IF_ERROR(source->ReadAt(0, data));
  return data;
}

Status WriteFile(const std::string& path, std::span<const uint8_t> data, mode_t mode) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return PwriteFull(fd.get(), data, 0, path);
}

std::string UnescapeMountField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        octal = octal && c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

}  // namespace tessera
