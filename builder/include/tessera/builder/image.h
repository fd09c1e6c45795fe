// Reading Tessera images: an opened bootstrap (EROFS image + Tessera tables) with its blobs,
// and the operations on it behind `tessera-image check`, `export`, `unpack` and `merge`.
//
// Thread-safety: an Image is immutable after Open/AttachBlobDir; its reader and devices may be
// read from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/reader.h"
#include "tessera/storage/bootstrap.h"
#include "tessera/storage/raw_device.h"

namespace tessera::builder {

class Image {
 public:
  // Maps and validates the bootstrap: EROFS superblock and device table, Tessera tables, and
  // that the device table and blob table agree (count, tags, sizes). A plain EROFS image
  // without Tessera tables is accepted when it has no extra devices.
  static Result<std::unique_ptr<Image>> Open(const std::string& bootstrap);

  const erofs::Reader& reader() const { return reader_; }
  const storage::BootstrapTables& tables() const { return *tables_; }
  std::shared_ptr<const storage::BootstrapTables> shared_tables() const { return tables_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return region_.size(); }

  // Attaches blobs from a directory: after this, devices() gives one RawDevice per blob.
  void AttachBlobDir(const std::string& blob_dir);
  // Device sources for erofs::Reader::Read (empty until blobs are attached).
  const std::vector<const ByteSource*>& devices() const { return device_ptrs_; }

 private:
  Image(std::string path, MappedRegion region, erofs::Reader reader,
        std::shared_ptr<const storage::BootstrapTables> tables);

  std::string path_;
  MappedRegion region_;
  erofs::Reader reader_;
  std::shared_ptr<const storage::BootstrapTables> tables_;
  std::unique_ptr<storage::BlobProvider> provider_;
  std::unique_ptr<storage::ChunkFetcher> fetcher_;
  std::vector<std::unique_ptr<storage::RawDevice>> devices_;
  std::vector<const ByteSource*> device_ptrs_;
};

// ---- check ----
// Validates a bootstrap and, given a blob directory, every blob it names: file size and
// sha256 against the blob id, footer and meta against the bootstrap's tables, every frame's
// decompression and every chunk's sha256. Problems are collected, not fatal.

struct CheckProblem {
  std::string where;    // "bootstrap" or the blob id
  int64_t chunk = -1;   // chunk index in the blob, -1 if not about one chunk
  uint64_t offset = 0;  // byte offset in the blob (or bootstrap) where known
  std::string message;
};

struct CheckReport {
  uint64_t inodes = 0;
  uint64_t chunk_refs = 0;
  uint64_t blobs_checked = 0;
  uint64_t frames_checked = 0;
  uint64_t chunks_verified = 0;
  std::vector<CheckProblem> problems;
};

// blob_dir may be empty (bootstrap only).
CheckReport CheckImage(const Image& image, const std::string& blob_dir);

// ---- export ----
// Writes each blob's raw device as <dir>/<blob id>.raw, so that the kernel mounts the
// bootstrap with those files as its devices (the layout tesserad's cache files share).

struct ExportResult {
  std::vector<std::string> raw_paths;  // in device order
  uint64_t bytes_written = 0;          // extent bytes (the files are sparse elsewhere)
};

// The image must have blobs attached. Files are written atomically (temp + rename).
Result<ExportResult> ExportRawDevices(const Image& image, const std::string& out_dir,
                                      const std::function<void(uint64_t, uint64_t)>& progress);

// ---- merge ----
// Merges layer bootstraps (lowest first) into one image bootstrap with overlay semantics: a
// whiteout (char 0:0) deletes the lower entry, an opaque directory (trusted.overlay.opaque=y)
// hides the lower directory's content, an upper entry replaces a lower one, directories merge
// (a directory, or root, the layer's tar only implied keeps the lower attributes: §3.4 of
// docs/format.md).
// The result references every layer's blobs through its device table; whiteouts and
// trusted.overlay.* xattrs do not appear in it.

struct MergeResult {
  uint64_t bootstrap_bytes = 0;
  size_t blobs = 0;
  uint64_t nodes = 0;
};

Result<MergeResult> MergeBootstraps(const std::vector<std::string>& layers,
                                    const std::string& output, int64_t build_time);

// ---- unpack ----
// Writes the image's tree (file bytes through the attached blobs) to a directory or a PAX tar.
// Both need blobs attached (AttachBlobDir) unless every file is inline in the bootstrap.

struct UnpackStats {
  uint64_t entries = 0;    // names written, the root excluded
  uint64_t bytes = 0;      // regular-file bytes written (each inode once)
  uint64_t hardlinks = 0;  // names written as links to an earlier name of the same inode
  uint64_t skipped = 0;    // names not stored (tar: sockets)
  std::vector<std::string> skipped_paths;
};

// Unpacks into `dir` (created if missing; must be an empty directory, not a symlink). Never
// writes outside `dir`, whatever the image says: every name is created relative to a directory
// fd, without following symlinks, descending only into directories it created. The image
// root's owner, mode, xattrs and mtime are applied to `dir`. Owners are set only when running
// as root. On failure the error names the image path being unpacked; what was written stays.
Result<UnpackStats> UnpackToDir(const Image& image, const std::string& dir);

// Writes a PAX tar ("./", "./a", "./a/b") to tar_path via tar_path + ".tmp" and a rename; on
// failure the temporary file is removed. Sockets cannot be stored in tar: they (and their
// other names) are skipped and counted.
Result<UnpackStats> UnpackToTar(const Image& image, const std::string& tar_path);

}  // namespace tessera::builder
