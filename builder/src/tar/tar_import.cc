// The import loop: libarchive headers -> decoded entries -> content store -> tree.
//
// Hostile-input decisions (each has a test in tests/unit/builder/tar_import_*_test.cc):
//  - ".." anywhere in a name or hard-link target: kCorrupt; leading "/" and "./" are dropped.
//  - a name below an existing non-directory (symlink "a" -> /etc, then "a/passwd"): kCorrupt.
//    The tree never resolves symlinks, and replacing "a" would hide the damage.
//  - hard link to a missing entry, to a directory, or naming the root: kCorrupt; a hard link to
//    itself (an earlier entry of that name) is a no-op; loops cannot form because links are
//    resolved once, to a node.
//  - typeflags libarchive does not know ('A'-'Z' vendor types, 'M', ...) are regular files, as
//    POSIX asks and libarchive does (it does not expose the raw flag); sockets are skipped.
//  - a bad header checksum, a truncated archive or compressed stream, a negative size, a size
//    past INT64_MAX (libarchive: "Tar size attribute overflow"): kCorrupt. A huge size that
//    libarchive accepts hits the store's limit (kTooLarge) or truncation (kCorrupt). Nothing
//    is allocated from a declared size here; data streams through a fixed buffer.
//  - libarchive warnings are errors (it warns, and returns a half-built entry, after more than
//    32 special headers in a row; it warns on malformed PAX records), except a name that does
//    not convert to the locale's charset: the raw bytes are kept.
//  - sparse files: holes are materialised as zeros in the stream handed to the store; a map
//    out of order is kCorrupt, a map past the size gives a file of exactly its declared size.
//  - a "hard link with data" (PAX allows it) keeps the target's data; the bytes are skipped.
//  - an archive cut exactly at a header boundary, or inside the end-of-archive blocks, is
//    accepted (indistinguishable from an archive without them); any other cut is kCorrupt.
//  - PAX mtimes before the epoch with a fraction ("-1.25") are corrected for libarchive's
//    sign-magnitude parse; values in (-1, 0) already lose their sign in libarchive.
#include "tar/tar_import.h"

#include <archive_entry.h>

#include <algorithm>
#include <cstring>

#include "tar/archive_reader.h"
#include "tar/tar_entry.h"
#include "tar/tar_path.h"
#include "tar/tree_applier.h"

namespace tessera::builder {
namespace {

using internal::ArchiveReader;
using internal::TarEntry;
using internal::TarEntryKind;
using internal::TreeApplier;

// Exactly one entry's data, read from libarchive as the store asks for it.
class EntryDataStream final : public ByteStream {
 public:
  EntryDataStream(ArchiveReader& reader, uint64_t size, bool sparse)
      : reader_(reader), size_(size), remaining_(size), sparse_(sparse) {}

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (remaining_ == 0 || out.empty()) return size_t{0};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
    TRY(size_t n, reader_.ReadData(out.first(want)));
    if (n == 0) {
      if (!sparse_) {
        return MakeError(ErrorCode::kCorrupt, "data ends after " +
                                                  std::to_string(size_ - remaining_) + " of " +
                                                  std::to_string(size_) + " bytes");
      }
      std::memset(out.data(), 0, want);  // a trailing hole libarchive did not fill
      n = want;
    }
    remaining_ -= n;
    return n;
  }

  uint64_t remaining() const { return remaining_; }

 private:
  ArchiveReader& reader_;
  const uint64_t size_;
  uint64_t remaining_;
  const bool sparse_;
};

Status IngestRegular(ArchiveReader& reader, ContentStore& store, TarEntry& entry) {
  EntryDataStream data(reader, entry.size, entry.sparse);
  TRY(StoredContent content, store.Ingest(data, entry.size, internal::JoinTarPath(entry.parts)));
  if (data.remaining() != 0) {
    return MakeError(ErrorCode::kInternal, "the content store left " +
                                               std::to_string(data.remaining()) + " of " +
                                               std::to_string(entry.size) + " bytes unread");
  }
  entry.node.size = entry.size;
  ApplyContent(entry.node, std::move(content));
  return Ok();
}

Status ImportEntry(ArchiveReader& reader, archive_entry* raw, ContentStore& store,
                   TreeApplier& applier, const TarImportOptions& options, TarImportStats& stats) {
  TRY(TarEntry entry, internal::DecodeEntry(raw, options, stats));
  if (options.convert_whiteouts && TreeApplier::IsWhiteout(entry)) {
    return applier.ApplyWhiteout(entry);
  }
  if (entry.kind == TarEntryKind::kRegular) {
    RETURN_IF_ERROR(IngestRegular(reader, store, entry));
    ++stats.regular_files;
    stats.bytes += entry.size;
  }
  return applier.Apply(std::move(entry));
}

std::string EntryContext(const std::string& name, archive_entry* raw, uint64_t offset) {
  const char* path = archive_entry_pathname(raw);
  return name + ": entry '" + (path != nullptr ? path : "?") + "' (header at byte " +
         std::to_string(offset) + ")";
}

}  // namespace

Result<TarImportStats> ImportTar(ByteStream& in, const std::string& name, erofs::Tree& tree,
                                 ContentStore& store, const TarImportOptions& options) {
  auto opened = ArchiveReader::Open(in);
  if (!opened.has_value()) return opened.error().Wrap(name);
  std::unique_ptr<ArchiveReader> reader = std::move(opened).value();
  TarImportStats stats;
  TreeApplier applier(tree, stats);
  while (true) {
    Result<archive_entry*> next = reader->Next();
    if (!next.has_value()) {
      return next.error().Wrap(name + ": after " + std::to_string(stats.entries) + " entries");
    }
    archive_entry* raw = *next;
    if (raw == nullptr) break;
    if (++stats.entries > options.max_entries) {
      return MakeError(ErrorCode::kTooLarge,
                       name + ": more than " + std::to_string(options.max_entries) + " entries");
    }
    Status status = ImportEntry(*reader, raw, store, applier, options, stats);
    if (!status.has_value()) {
      return status.error().Wrap(EntryContext(name, raw, reader->HeaderOffset()));
    }
  }
  return stats;
}

}  // namespace tessera::builder
