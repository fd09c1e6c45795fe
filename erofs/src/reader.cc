// erofs::Reader: opening an image and the public entry points. Decoding lives in reader_*.cc.
#include "tessera/erofs/reader.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <utility>

#include "reader_state.h"

namespace tessera::erofs {

namespace internal {

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string_view LayoutName(DataLayout layout) {
  switch (layout) {
    case DataLayout::kFlatPlain:
      return "flat_plain";
    case DataLayout::kCompressedFull:
      return "compressed_full";
    case DataLayout::kFlatInline:
      return "flat_inline";
    case DataLayout::kCompressedCompact:
      return "compressed_compact";
    case DataLayout::kChunkBased:
      return "chunk_based";
  }
  return "invalid";
}

Result<std::span<const uint8_t>> Image::Slice(uint64_t offset, uint64_t length,
                                              std::string_view what) const {
  if (!Contains(offset, length)) {
    return Corrupt(Cat(what, ": bytes [", offset, ", +", length, ") past image end (", bytes.size(),
                       " bytes)"));
  }
  return bytes.subspan(offset, length);
}

}  // namespace internal

struct Reader::State {
  MappedRegion mapping;  // empty when the bytes are borrowed
  internal::Image image;
};

namespace {

Result<std::unique_ptr<internal::Image>> Validate(std::span<const uint8_t> bytes) {
  TRY(internal::Image image, internal::ParseImage(bytes));
  // The root must be a readable directory, or nothing else will work.
  TRY(const InodeInfo root, internal::ReadInode(image, image.sb.root_nid));
  if (!S_ISDIR(root.mode)) {
    return internal::Corrupt(
        internal::Cat("superblock: root nid ", image.sb.root_nid, " is not a directory"));
  }
  return std::make_unique<internal::Image>(std::move(image));
}

}  // namespace

Reader::Reader(std::unique_ptr<State> state) : state_(std::move(state)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::Open(const std::string& path) {
  auto mapping = MappedRegion::MapFile(path);
  if (!mapping) return mapping.error();
  auto image = Validate(mapping->bytes());
  if (!image) return image.error().Wrap(path);
  auto state = std::make_unique<State>();
  state->mapping = std::move(*mapping);
  state->image = std::move(**image);
  state->image.bytes = state->mapping.bytes();  // same address: the mapping moved, not copied
  return Reader(std::move(state));
}

Result<Reader> Reader::OpenBytes(std::span<const uint8_t> bytes) {
  TRY(auto image, Validate(bytes));
  auto state = std::make_unique<State>();
  state->image = std::move(*image);
  return Reader(std::move(state));
}

const SuperBlockInfo& Reader::super() const { return state_->image.sb; }
const std::vector<DeviceEntry>& Reader::devices() const { return state_->image.devices; }
std::span<const uint8_t> Reader::image() const { return state_->image.bytes; }

Result<InodeInfo> Reader::GetInode(uint64_t nid) const {
  return internal::ReadInode(state_->image, nid);
}

Result<std::vector<DirEntry>> Reader::ReadDir(uint64_t dir_nid) const {
  TRY(const InodeInfo dir, GetInode(dir_nid));
  return internal::ReadDirectory(state_->image, dir);
}

Result<DirEntry> Reader::Lookup(uint64_t dir_nid, std::string_view name) const {
  TRY(const InodeInfo dir, GetInode(dir_nid));
  return internal::LookupName(state_->image, dir, name);
}

Result<uint64_t> Reader::ResolvePath(std::string_view path) const {
  uint64_t nid = root_nid();
  size_t pos = 0;
  while (pos < path.size()) {
    const size_t slash = path.find('/', pos);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) continue;
    auto entry = Lookup(nid, part);
    if (!entry) return entry.error().Wrap(internal::Cat("path '", std::string(path), "'"));
    nid = entry->nid;
  }
  return nid;
}

Result<std::string> Reader::ReadLink(uint64_t nid) const {
  TRY(const InodeInfo inode, GetInode(nid));
  if (!S_ISLNK(inode.mode)) {
    return MakeError(ErrorCode::kInvalidArgument, internal::Cat("nid ", nid, ": not a symlink"));
  }
  // ReadInode bounded a symlink's size to kMaxSymlinkSize.
  std::string target(inode.size, '\0');
  // SAFETY: char -> uint8_t view of the string's own buffer.
  std::span<uint8_t> out(reinterpret_cast<uint8_t*>(target.data()), target.size());
  TRY(const size_t n, internal::ReadData(state_->image, inode, 0, out, {}));
  target.resize(n);
  return target;
}

Result<std::vector<Xattr>> Reader::ListXattrs(uint64_t nid) const {
  TRY(const InodeInfo inode, GetInode(nid));
  return internal::ReadXattrs(state_->image, inode);
}

Result<std::string> Reader::GetXattr(uint64_t nid, std::string_view name) const {
  TRY(auto xattrs, ListXattrs(nid));
  for (auto& x : xattrs) {
    if (x.name == name) return std::move(x.value);
  }
  return MakeError(ErrorCode::kNotFound,
                   internal::Cat("nid ", nid, ": no xattr '", std::string(name), "'"));
}

Result<ChunkMap> Reader::GetChunkMap(uint64_t nid) const {
  TRY(const InodeInfo inode, GetInode(nid));
  TRY(const internal::ChunkLayout layout, internal::GetChunkLayout(state_->image, inode));
  ChunkMap map;
  map.chunk_size = static_cast<uint32_t>(layout.chunk_size);  // < 2^32, checked by the layout
  map.indexes = layout.indexes;
  // The count is bounded by the image size (the index array lies inside it).
  map.chunks.reserve(layout.count);
  for (uint64_t i = 0; i < layout.count; ++i) {
    TRY(const ChunkRef ref, internal::ReadChunkRef(state_->image, inode, layout, i));
    map.chunks.push_back(ref);
  }
  return map;
}

Result<size_t> Reader::Read(uint64_t nid, uint64_t offset, std::span<uint8_t> out,
                            std::span<const ByteSource* const> devices) const {
  TRY(const InodeInfo inode, GetInode(nid));
  return internal::ReadData(state_->image, inode, offset, out, devices);
}

Status Reader::Walk(const std::function<Status(const std::string& path, const DirEntry& entry,
                                               const InodeInfo& inode)>& visit) const {
  return internal::WalkTree(state_->image, visit);
}

}  // namespace tessera::erofs
