// ImportTar: applies one OCI layer tar stream to an in-memory erofs::Tree, in one pass.
//
// Why: `tessera-image create` turns layer tars (plain, gzip or zstd; a file, stdin or an HTTP
// body) into bootstraps without extracting anything to disk. libarchive parses the headers
// (ustar, GNU long names and sparse files, PAX); this module decides what each entry means
// for the tree and hands regular file bytes to a ContentStore.
//
// Semantics (an OCI layer; see docs in tar_import.cc for the hostile-input decisions):
//  - names are normalised ("./a//b/" -> "a/b"); a ".." component is an error, so no name can
//    leave the root; "" or "./" is the root itself;
//  - missing parents become directories 0755 root:root mtime 0, updated in place if declared
//    later; a name below a non-directory (e.g. "a/passwd" after symlink "a") is an error;
//  - duplicates: the last entry wins (a directory over a directory keeps its children);
//  - hard links name an earlier entry of the stream (not a directory) and share its NodeId;
//  - OCI whiteouts become overlay whiteouts (char device 0:0) and opaque directories
//    (trusted.overlay.opaque=y) when convert_whiteouts is set;
//  - typeflags libarchive does not know are regular files (POSIX); sockets are skipped;
//  - GNU/PAX sparse files are materialised: holes read as zeros.
//
// Thread-safety: ImportTar is reentrant; `tree`, `store` and `in` belong to the caller's
// thread for the duration of the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "content/content_store.h"

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder {

struct TarImportOptions {
  bool convert_whiteouts = true;  // OCI .wh. files -> overlay whiteouts / opaque dirs
  uint64_t max_entries = 10'000'000;
  uint64_t max_path_length = 4096;  // names, hard-link names and symlink targets
};

struct TarImportStats {
  uint64_t entries = 0;               // headers read (every entry, including whiteouts)
  uint64_t regular_files = 0;         // regular files stored (hard links not counted)
  uint64_t bytes = 0;                 // sum of regular file sizes handed to the store
  uint64_t whiteouts = 0;             // .wh.NAME converted to overlay whiteouts
  uint64_t hardlinks = 0;             // '1' entries linked to an earlier node
  uint64_t opaque_dirs = 0;           // .wh..wh..opq markers applied
  uint64_t implicit_dirs = 0;         // parents created because no entry declared them (yet)
  uint64_t skipped = 0;               // entries ignored: sockets, reserved .wh..wh.* names
  uint64_t dropped_xattrs = 0;        // xattrs in namespaces EROFS cannot store
  uint64_t dropped_acls = 0;          // entries whose text ACLs (SCHILY.acl.*) were not kept
  std::vector<std::string> warnings;  // the first kMaxWarnings reasons for the above

  static constexpr size_t kMaxWarnings = 100;
};

// Reads one tar stream (plain, gzip or zstd, detected by magic) from `in` in one pass and
// applies its entries to `tree`, which may be empty or hold earlier entries of the same layer.
// Regular file content goes through `store.Ingest` (exactly `size` bytes each, holes of sparse
// files as zeros). `name` names the stream in messages.
//
// Fails with an error naming `name`, the entry and the byte offset of its header in the
// uncompressed stream: kCorrupt for malformed or hostile archives (".." names, hard links to
// missing entries or directories, names below non-directories, truncation), kTooLarge when a
// limit is exceeded, kUnsupported for names or xattrs EROFS cannot store, and the stream's or
// the store's own error otherwise. On failure `tree` holds a partial import and must be
// discarded.
Result<TarImportStats> ImportTar(ByteStream& in, const std::string& name, erofs::Tree& tree,
                                 ContentStore& store, const TarImportOptions& options = {});

}  // namespace tessera::builder
