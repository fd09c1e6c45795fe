#include "tar/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

#include <algorithm>
#include <cstring>

namespace tessera::builder::internal {
namespace {

// Large enough that libarchive's per-callback overhead is negligible, small enough to not
// matter per import.
constexpr size_t kReadBufferSize = 256 * 1024;

}  // namespace

void ArchiveReader::ArchiveFree::operator()(archive* a) const { archive_read_free(a); }

ArchiveReader::ArchiveReader(ByteStream& in) : in_(in), buffer_(kReadBufferSize) {}

ArchiveReader::~ArchiveReader() = default;

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::Open(ByteStream& in) {
  std::unique_ptr<ArchiveReader> reader(new ArchiveReader(in));
  archive* a = archive_read_new();
  if (a == nullptr) return MakeError(ErrorCode::kInternal, "archive_read_new failed");
  reader->archive_.reset(a);
  // ARCHIVE_WARN would mean "falls back to an external program": refuse that, we never spawn.
  if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
      archive_read_support_format_tar(a) != ARCHIVE_OK) {
    return MakeError(ErrorCode::kUnsupported,
                     std::string("libarchive lacks built-in gzip/zstd/tar support: ") +
                         (archive_error_string(a) ? archive_error_string(a) : "?"));
  }
  if (archive_read_open(a, reader.get(), nullptr, &ArchiveReader::ReadCallback, nullptr) !=
      ARCHIVE_OK) {
    return reader->LastError("not a tar archive (plain, gzip or zstd)");
  }
  return reader;
}

ssize_t ArchiveReader::ReadCallback(archive* a, void* self, const void** buffer) {
  auto* reader = static_cast<ArchiveReader*>(self);
  Result<size_t> n = reader->in_.Read(reader->buffer_);
  if (!n.has_value()) {
    reader->stream_error_ = n.error();
    archive_set_error(a, EIO, "%s", n.error().ToString().c_str());
    return -1;
  }
  *buffer = reader->buffer_.data();
  return static_cast<ssize_t>(std::min(*n, reader->buffer_.size()));
}

Result<archive_entry*> ArchiveReader::Next() {
  archive_entry* entry = nullptr;
  const int r = archive_read_next_header(archive_.get(), &entry);
  if (r == ARCHIVE_EOF) return static_cast<archive_entry*>(nullptr);
  // ARCHIVE_RETRY (bad header checksum) and worse stop the import: a damaged layer must not be
  // half-applied silently. So does ARCHIVE_WARN, except for a name that does not convert to
  // the locale's charset (the raw bytes are kept, which is what an image needs): libarchive
  // also warns for "Too many special headers" (and then returns a half-built entry) and for
  // malformed PAX attributes.
  if ((r != ARCHIVE_OK && !(r == ARCHIVE_WARN && IsCharsetWarning())) || entry == nullptr) {
    return LastError("reading the header at byte " + std::to_string(HeaderOffset()));
  }
  return entry;
}

bool ArchiveReader::IsCharsetWarning() const {
  const char* message = archive_error_string(archive_.get());
  return message != nullptr && std::strstr(message, "can't be converted") != nullptr;
}

Result<size_t> ArchiveReader::ReadData(std::span<uint8_t> out) {
  const la_ssize_t n = archive_read_data(archive_.get(), out.data(), out.size());
  if (n < 0) {
    return LastError("reading entry data (stream at byte " +
                     std::to_string(archive_filter_bytes(archive_.get(), 0)) + ")");
  }
  return static_cast<size_t>(n);
}

uint64_t ArchiveReader::HeaderOffset() const {
  const la_int64_t pos = archive_read_header_position(archive_.get());
  return pos < 0 ? 0 : static_cast<uint64_t>(pos);
}

Error ArchiveReader::LastError(const std::string& what) const {
  if (stream_error_.has_value()) return *stream_error_;
  const char* message = archive_error_string(archive_.get());
  const int err = archive_errno(archive_.get());
  const ErrorCode code = err == ENOMEM ? ErrorCode::kTooLarge : ErrorCode::kCorrupt;
  return MakeError(code,
                   what + ": " + (message != nullptr ? message : "libarchive gave no reason"));
}

}  // namespace tessera::builder::internal
