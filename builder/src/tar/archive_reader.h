// Private to the tar importer: libarchive reading a tar stream from a ByteStream.
//
// Only the tar format family (ustar, GNU, PAX) is enabled, behind the gzip and zstd filters
// (detected by magic; plain tar passes through). Errors of the ByteStream reach the caller
// unchanged, with their message; libarchive's own errors become kCorrupt.
//
// Thread-safety: one reader per thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"

struct archive;
struct archive_entry;

namespace tessera::builder::internal {

class ArchiveReader {
 public:
  // Starts reading `in` (which must outlive the reader) and detects the compression.
  // Errors carry no stream name; the caller adds it.
  static Result<std::unique_ptr<ArchiveReader>> Open(ByteStream& in);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // The next entry's header, or nullptr at the end of the archive. The entry stays valid until
  // the next call. Unread data of the previous entry is skipped.
  Result<archive_entry*> Next();

  // Reads the current entry's data (holes of sparse entries as zeros); 0 at its end.
  Result<size_t> ReadData(std::span<uint8_t> out);

  // Offset of the current entry's header in the uncompressed stream.
  uint64_t HeaderOffset() const;

 private:
  explicit ArchiveReader(ByteStream& in);
  static ssize_t ReadCallback(archive* a, void* self, const void** buffer);
  // True if libarchive's last warning is only about converting a name to the locale.
  bool IsCharsetWarning() const;
  // The error behind the last libarchive failure: the stream's own, or libarchive's message.
  Error LastError(const std::string& what) const;

  struct ArchiveFree {
    void operator()(archive* a) const;
  };

  ByteStream& in_;
  std::vector<uint8_t> buffer_;
  std::optional<Error> stream_error_;
  std::unique_ptr<archive, ArchiveFree> archive_;
};

}  // namespace tessera::builder::internal
