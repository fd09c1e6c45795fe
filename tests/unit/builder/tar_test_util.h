// Helpers for the tar importer tests: a TreeView over an erofs::Tree (so the shared tree
// comparison can check an imported tree against its source directory), in-memory and
// fault-injecting ByteStreams, a ustar/PAX/GNU header writer for hand-crafted hostile archives,
// and running GNU tar.
//
// Thread-safety: test-local values, used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/tree_view.h"
#include "tar/tar_import.h"

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder::tartest {

// A view of an imported tree: ino = NodeId, nlink = names of a non-directory (2 + subdirs for
// directories), file bytes from the node's inline ByteSource. The tree must outlive the view.
std::unique_ptr<testing::TreeView> MakeTreeNodeView(const erofs::Tree& tree);

// A ByteStream over bytes in memory that returns at most `piece` bytes per Read and, if
// `fail_at` is set, fails with kIo ("injected failure at byte N") once that offset is reached.
class StringStream final : public ByteStream {
 public:
  explicit StringStream(std::string data, size_t piece = 1 << 20,
                        std::optional<uint64_t> fail_at = std::nullopt)
      : data_(std::move(data)), piece_(piece), fail_at_(fail_at) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t piece_;
  std::optional<uint64_t> fail_at_;
};

// One ustar header's fields; anything unset is zero. raw_size (exactly 12 bytes) replaces the
// octal size field, e.g. for base-256 sizes.
struct Header {
  std::string name;
  char type = '0';
  uint64_t size = 0;
  std::string link;
  uint32_t mode = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  std::string prefix;
  std::optional<std::string> raw_size;
  bool bad_checksum = false;
};

// A header with the given name, typeflag and size; other fields at their defaults.
Header MakeHeader(const std::string& name, char type = '0', uint64_t size = 0);

// Builds tar archives block by block, with correct checksums unless asked otherwise.
class TarWriter {
 public:
  void AddHeader(const Header& header);
  // Appends data padded with zeros to a 512-byte multiple.
  void AddData(std::string_view data);
  void AddFile(const std::string& name, std::string_view data, uint32_t mode = 0644);
  void AddDir(const std::string& name, uint32_t mode = 0755, uint32_t uid = 0);
  void AddSymlink(const std::string& name, const std::string& target);
  void AddHardLink(const std::string& name, const std::string& target);
  // A PAX extended header ('x') applying to the next entry.
  void AddPax(const std::vector<std::pair<std::string, std::string>>& records);
  // A GNU long name ('L') or long link ('K') for the next entry.
  void AddGnuLong(char type, const std::string& value);
  // The archive so far, with or without the two zero end blocks.
  std::string Finish() const;
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// "<len> key=value\n" with the self-including length PAX wants.
std::string PaxRecord(const std::string& key, const std::string& value);

// Runs argv; fails the calling test (via the returned Status) unless it exits 0.
Status RunTool(const std::vector<std::string>& argv);

// Imports the tar file at `path` through an FdStream.
Result<TarImportStats> ImportFile(const std::string& path, erofs::Tree& tree,
                                  const TarImportOptions& options = {});

// Imports an in-memory archive; `piece` bounds every Read of the stream.
Result<TarImportStats> ImportBytes(const std::string& bytes, erofs::Tree& tree,
                                   const TarImportOptions& options = {}, size_t piece = 1 << 20);

// The bytes of a regular file node (its inline ByteSource), or "" when it has none.
std::string NodeBytes(const erofs::Node& node);

}  // namespace tessera::builder::tartest
