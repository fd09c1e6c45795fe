// Private to the tar importer: one tar header as the importer sees it, decoded from
// libarchive's archive_entry and checked against the import limits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tar/tar_import.h"

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

struct archive_entry;

namespace tessera::builder::internal {

enum class TarEntryKind {
  kRegular,  // '0', '\0', '7', GNU sparse, and typeflags libarchive does not know (POSIX)
  kDirectory,
  kSymlink,
  kHardLink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kOther,  // sockets and anything else EROFS images do not hold from tars: skipped
};

struct TarEntry {
  std::string path;                // the name as archived, for messages
  std::vector<std::string> parts;  // normalised components; empty = the root
  TarEntryKind kind = TarEntryKind::kOther;
  // Mode (type | permissions), owner, mtime, rdev, symlink target and xattrs; no data.
  erofs::Node node;
  uint64_t size = 0;                    // regular files: data bytes, holes of sparse files included
  bool sparse = false;                  // data has holes that read as zeros
  std::string link_path;                // hard links: the target's name as archived
  std::vector<std::string> link_parts;  // hard links: its normalised components
};

// Decodes one header. Fails with kCorrupt (no name, ".." components, a symlink without a
// target, a negative size, uid/gid beyond 32 bits), kTooLarge (name or target longer than
// options.max_path_length) or kUnsupported (a name component or xattr EROFS cannot store).
// Xattrs outside EROFS's namespaces and text ACLs are dropped and counted in `stats`.
Result<TarEntry> DecodeEntry(archive_entry* entry, const TarImportOptions& options,
                             TarImportStats& stats);

// Records a warning (up to TarImportStats::kMaxWarnings of them).
void AddWarning(TarImportStats& stats, std::string warning);

}  // namespace tessera::builder::internal
