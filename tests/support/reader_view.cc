// TreeView over an EROFS image read with erofs::Reader.
#include <algorithm>
#include <unordered_map>

#include "support/tree_view.h"

namespace tessera::testing {
namespace {

class ReaderFileReader final : public FileReader {
 public:
  ReaderFileReader(const erofs::Reader& reader, uint64_t nid,
                   const std::vector<const ByteSource*>& devices)
      : reader_(reader), nid_(nid), devices_(devices) {}

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    return reader_.Read(nid_, offset, out, devices_);
  }

 private:
  const erofs::Reader& reader_;
  uint64_t nid_;
  const std::vector<const ByteSource*>& devices_;
};

class ReaderView final : public TreeView {
 public:
  ReaderView(const erofs::Reader& reader, std::vector<const ByteSource*> devices)
      : reader_(reader), devices_(std::move(devices)) {}

  std::string Name() const override { return "erofs image (tessera reader)"; }

  Result<EntryAttrs> Stat(const std::string& path) const override {
    TRY(uint64_t nid, Resolve(path));
    TRY(erofs::InodeInfo inode, reader_.GetInode(nid));
    EntryAttrs a;
    a.mode = inode.mode;
    a.uid = inode.uid;
    a.gid = inode.gid;
    a.size = inode.size;
    a.mtime = inode.mtime;
    a.mtime_nsec = inode.mtime_nsec;
    a.nlink = inode.nlink;
    a.rdev = inode.rdev;
    a.ino = nid;
    return a;
  }

  Result<std::vector<std::string>> List(const std::string& path) const override {
    TRY(uint64_t nid, Resolve(path));
    TRY(std::vector<erofs::DirEntry> entries, reader_.ReadDir(nid));
    std::vector<std::string> names;
    for (auto& entry : entries) {
      if (entry.name != "." && entry.name != "..") names.push_back(std::move(entry.name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::string> ReadLink(const std::string& path) const override {
    TRY(uint64_t nid, Resolve(path));
    return reader_.ReadLink(nid);
  }

  Result<std::vector<erofs::Xattr>> Xattrs(const std::string& path) const override {
    TRY(uint64_t nid, Resolve(path));
    TRY(std::vector<erofs::Xattr> xattrs, reader_.ListXattrs(nid));
    std::sort(xattrs.begin(), xattrs.end(),
              [](const erofs::Xattr& a, const erofs::Xattr& b) { return a.name < b.name; });
    return xattrs;
  }

  Result<std::unique_ptr<FileReader>> Open(const std::string& path) const override {
    TRY(uint64_t nid, Resolve(path));
    return std::unique_ptr<FileReader>(new ReaderFileReader(reader_, nid, devices_));
  }

 private:
  // Each path is resolved through Reader::ResolvePath once; the comparison asks for the same
  // path several times (attributes, xattrs, data).
  Result<uint64_t> Resolve(const std::string& path) const {
    if (path.empty()) return reader_.root_nid();
    if (auto it = nids_.find(path); it != nids_.end()) return it->second;
    auto nid = reader_.ResolvePath("/" + path);
    if (!nid.has_value()) return std::move(nid).error().Wrap("resolve /" + path);
    nids_.emplace(path, *nid);
    return *nid;
  }

  const erofs::Reader& reader_;
  std::vector<const ByteSource*> devices_;
  mutable std::unordered_map<std::string, uint64_t> nids_;
};

}  // namespace

std::unique_ptr<TreeView> MakeReaderView(const erofs::Reader& reader,
                                         std::vector<const ByteSource*> devices) {
  return std::make_unique<ReaderView>(reader, std::move(devices));
}

}  // namespace tessera::testing
