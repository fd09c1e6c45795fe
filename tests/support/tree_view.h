// TreeView: one read-only view of a file tree, so a single comparison engine can compare a
// directory on disk (or a mount) with another directory, or with an EROFS image read through
// erofs::Reader. Paths are relative to the view's root: "" is the root, "a/b" a descendant.
// Nothing follows symlinks.
//
// Thread-safety: views are used from one thread; the objects they wrap must outlive them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/reader.h"
#include "tessera/erofs/tree.h"

namespace tessera::testing {

// The attributes both sides can report (what lstat gives, minus times other than mtime).
struct EntryAttrs {
  uint32_t mode = 0;  // file type and permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t mtime_nsec = 0;
  uint64_t nlink = 0;
  uint64_t rdev = 0;  // makedev(major, minor)
  uint64_t ino = 0;   // identity for hard-link grouping: st_ino, or the EROFS nid
  uint64_t dev = 0;
};

// Sequential or random reads of one regular file.
class FileReader {
 public:
  virtual ~FileReader() = default;
  // Reads up to out.size() bytes at offset; fewer only at end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) = 0;
};

class TreeView {
 public:
  virtual ~TreeView() = default;
  // What the view shows, for messages: "dir /tmp/x" or "erofs image".
  virtual std::string Name() const = 0;
  virtual Result<EntryAttrs> Stat(const std::string& path) const = 0;
  // Names in a directory, without "." and "..", sorted bytewise.
  virtual Result<std::vector<std::string>> List(const std::string& path) const = 0;
  virtual Result<std::string> ReadLink(const std::string& path) const = 0;
  // All extended attributes, sorted by name.
  virtual Result<std::vector<erofs::Xattr>> Xattrs(const std::string& path) const = 0;
  virtual Result<std::unique_ptr<FileReader>> Open(const std::string& path) const = 0;
};

// A view of a directory (or mount point) through lstat, readdir, readlink, llistxattr.
std::unique_ptr<TreeView> MakePosixView(const std::string& root);

// A view of an EROFS image through erofs::Reader. devices[k - 1] backs device id k of
// chunk-based files. Reader and devices must outlive the view.
std::unique_ptr<TreeView> MakeReaderView(const erofs::Reader& reader,
                                         std::vector<const ByteSource*> devices = {});

// Joins a relative view path and a name ("" + "a" = "a", "a" + "b" = "a/b").
std::string JoinViewPath(const std::string& dir, const std::string& name);

}  // namespace tessera::testing
