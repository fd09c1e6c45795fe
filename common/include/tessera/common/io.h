// File descriptors, memory maps and the byte-source/byte-sink seams every format reads and
// writes through.
//
// ByteSource is random-access read (pread-like); ByteSink is sequential append. Format code
// (erofs, blob) depends only on these interfaces, so tests can substitute in-memory or
// fault-injecting implementations.
//
// Thread-safety: UniqueFd/MappedRegion are move-only values. FileSource and MemorySource are
// safe for concurrent ReadAt calls; sinks are single-threaded.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"

namespace tessera {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset(int fd = -1);

  // open(2) with O_CLOEXEC added; the error names the path.
  static Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode = 0644);

 private:
  int fd_ = -1;
};

// A read-only (or private) mapping of a whole file; unmapped on destruction.
class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion();

  // Maps the whole file read-only. An empty file gives an empty region.
  static Result<MappedRegion> MapFile(const std::string& path);

  std::span<const uint8_t> bytes() const { return {static_cast<const uint8_t*>(addr_), size_}; }
  size_t size() const { return size_; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// Random-access input.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t Size() const = 0;
  // Reads exactly out.size() bytes at offset; reading past Size() is kOutOfRange.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) const = 0;
};

// Sequential input (a pipe, a decompressor, a network body).
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to out.size() bytes; returns 0 only at end of stream.
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
};

// Reads exactly out.size() bytes; a stream that ends early is kOutOfRange naming `what`.
Status ReadExact(ByteStream& in, std::span<uint8_t> out, const std::string& what);

// A ByteStream over a file descriptor (not owned unless given a UniqueFd).
class FdStream final : public ByteStream {
 public:
  explicit FdStream(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  explicit FdStream(UniqueFd fd, std::string name)
      : owned_(std::move(fd)), fd_(owned_.get()), name_(std::move(name)) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  UniqueFd owned_;
  int fd_;
  std::string name_;
};

// Sequential output.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::span<const uint8_t> data) = 0;
  // Appends n zero bytes.
  virtual Status WriteZeros(uint64_t n);
  virtual uint64_t Position() const = 0;
  virtual Status Flush() { return Ok(); }
};

// A ByteSource over an open file (pread).
class FileSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override;
  const std::string& path() const { return path_; }

 private:
  FileSource(UniqueFd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}
  UniqueFd fd_;
  uint64_t size_;
  std::string path_;
};

// A ByteSource over bytes in memory (owned, or borrowed from a span that outlives it).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::vector<uint8_t> owned);
  explicit MemorySource(std::span<const uint8_t> borrowed) : data_(borrowed) {}
  uint64_t Size() const override { return data_.size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::vector<uint8_t> owned_;
  std::span<const uint8_t> data_;
};

// Appends to a file created (or truncated) at path; buffered.
class FileSink final : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path, mode_t mode = 0644);
  ~FileSink() override;
  Status Write(std::span<const uint8_t> data) override;
  uint64_t Position() const override { return position_; }
  Status Flush() override;
  // Flushes and fsyncs.
  Status Sync();

 private:
  FileSink(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::vector<uint8_t> buffer_;
  uint64_t position_ = 0;
};

// Appends to a vector in memory.
class VectorSink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override;
  uint64_t Position() const override { return data_.size(); }
  std::vector<uint8_t>& data() { return data_; }

 private:
  std::vector<uint8_t> data_;
};

// Whole-file helpers; errors name the path.
Result<std::vector<uint8_t>> ReadFile(const std::string& path);
// A path field of /proc/*/mounts or mountinfo: space, tab, newline and backslash are \ooo there.
std::string UnescapeMountField(std::string_view field);
Status WriteFile(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644);
// pread/pwrite loops that retry on EINTR and short transfers.
Status PreadFull(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& what);
Status PwriteFull(int fd, std::span<const uint8_t> data, uint64_t offset, const std::string& what);

}  // namespace tessera
