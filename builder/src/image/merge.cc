// Layer merge with overlay semantics (see tessera/builder/image.h).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bit>
#include <unordered_map>

#include "bootstrap/bootstrap_writer.h"
#include "tar/tree_applier.h"

#include "tessera/builder/image.h"
#include "tessera/erofs/format.h"

namespace tessera::builder {
namespace {

constexpr std::string_view kOverlayPrefix = "trusted.overlay.";
constexpr std::string_view kOpaque = "trusted.overlay.opaque";

// The merged blob tables, built blob by blob.
struct MergedBlob {
  storage::BlobInfo info;
  std::vector<storage::FrameEntry> frames;
  std::vector<storage::ChunkEntry> chunks;
  std::vector<storage::ExtentEntry> extents;  // chunk = (merged blob, local chunk) until flattened
  std::vector<uint32_t> extent_blob;          // merged blob of each extent's chunk
};

class Merger {
 public:
  Status AddLayer(const Image& layer);
  Result<MergeResult> Write(const std::string& output, int64_t build_time);

 private:
  Status MergeBlobs(const Image& layer);
  Status ApplyDir(const Image& layer, erofs::NodeId dir, uint64_t nid);
  Status ApplyEntry(const Image& layer, erofs::NodeId dir, const erofs::DirEntry& entry);
  Result<erofs::Node> MakeNode(const Image& layer, const erofs::InodeInfo& inode);
  Status CopyAttributes(const Image& layer, const erofs::InodeInfo& inode, erofs::Node& node);
  storage::BootstrapTables Flatten() const;

  erofs::Tree tree_;
  std::vector<MergedBlob> blobs_;
  std::vector<uint32_t> layer_blob_;  // current layer's blob index -> merged blob index
  std::unordered_map<uint64_t, erofs::NodeId> nid_node_;  // current layer's hard links
  uint32_t chunk_size_ = 0;
};

Status Merger::MergeBlobs(const Image& layer) {
  const storage::BootstrapTables& t = layer.tables();
  chunk_size_ = std::max(chunk_size_, t.chunk_size);
  layer_blob_.assign(t.blobs.size(), 0);
  for (uint32_t b = 0; b < t.blobs.size(); ++b) {
    uint32_t m = 0;
    while (m < blobs_.size() && blobs_[m].info.id != t.blobs[b].id) ++m;
    if (m == blobs_.size()) {
      MergedBlob mb;
      mb.info = t.blobs[b];
      auto f = std::span(t.frames).subspan(t.blobs[b].first_frame, t.blobs[b].frame_count);
      auto c = std::span(t.chunks).subspan(t.blobs[b].first_chunk, t.blobs[b].chunk_count);
      mb.frames.assign(f.begin(), f.end());
      mb.chunks.assign(c.begin(), c.end());
      blobs_.push_back(std::move(mb));
    }
    layer_blob_[b] = m;
  }
  // A device's extents come from the layer that placed data on it.
  for (uint32_t b = 0; b < t.blobs.size(); ++b) {
    MergedBlob& mb = blobs_[layer_blob_[b]];
    if (!mb.extents.empty() || t.blobs[b].extent_count == 0) continue;
    mb.info.raw_size = t.blobs[b].raw_size;
    for (const storage::ExtentEntry& e : t.DeviceExtents(b)) {
      uint32_t owner = t.BlobOfChunk(e.chunk);
      if (owner >= t.blobs.size()) return MakeError(ErrorCode::kCorrupt, "extent without blob");
      storage::ExtentEntry local = e;
      local.chunk = e.chunk - t.blobs[owner].first_chunk;
      mb.extents.push_back(local);
      mb.extent_blob.push_back(layer_blob_[owner]);
    }
  }
  return Ok();
}

Status Merger::CopyAttributes(const Image& layer, const erofs::InodeInfo& inode,
                              erofs::Node& node) {
  node.mode = inode.mode;
  node.uid = inode.uid;
  node.gid = inode.gid;
  node.mtime = inode.mtime;
  node.mtime_nsec = inode.mtime_nsec;
  node.xattrs.clear();
  TRY(auto xattrs, layer.reader().ListXattrs(inode.nid));
  for (auto& x : xattrs) {
    if (!std::string_view(x.name).starts_with(kOverlayPrefix)) node.xattrs.push_back(std::move(x));
  }
  return Ok();
}

Result<erofs::Node> Merger::MakeNode(const Image& layer, const erofs::InodeInfo& inode) {
  erofs::Node node;
  RETURN_IF_ERROR(CopyAttributes(layer, inode, node));
  if (S_ISLNK(inode.mode)) {
    TRY(node.symlink_target, layer.reader().ReadLink(inode.nid));
  } else if (S_ISCHR(inode.mode) || S_ISBLK(inode.mode)) {
    node.rdev = inode.rdev;
  } else if (S_ISREG(inode.mode)) {
    node.size = inode.size;
    if (inode.layout == erofs::DataLayout::kChunkBased) {
      TRY(erofs::ChunkMap map, layer.reader().GetChunkMap(inode.nid));
      erofs::ChunkedData data;
      data.chunk_bits = static_cast<uint8_t>(std::countr_zero(map.chunk_size / erofs::kBlockSize));
      for (erofs::ChunkRef ref : map.chunks) {
        if (ref.device_id == 0 || ref.device_id > layer_blob_.size()) {
          return MakeError(ErrorCode::kCorrupt, "nid " + std::to_string(inode.nid) +
                                                    ": chunk names device " +
                                                    std::to_string(ref.device_id));
        }
        ref.device_id = static_cast<uint16_t>(layer_blob_[ref.device_id - 1] + 1);
        data.chunks.push_back(ref);
      }
      node.chunked = std::move(data);
    } else if (inode.size > 0) {
      std::vector<uint8_t> bytes(inode.size);
      TRY(size_t n, layer.reader().Read(inode.nid, 0, bytes));
      if (n != bytes.size()) return MakeError(ErrorCode::kCorrupt, "short inline file");
      node.data = std::make_shared<MemorySource>(std::move(bytes));
    }
  }
  return node;
}

Status Merger::ApplyEntry(const Image& layer, erofs::NodeId dir, const erofs::DirEntry& entry) {
  TRY(erofs::InodeInfo inode, layer.reader().GetInode(entry.nid));
  auto& entries = tree_.node(dir).entries;
  auto existing = entries.find(entry.name);
  if (S_ISCHR(inode.mode) && inode.rdev == 0) {  // whiteout
    if (existing != entries.end()) RETURN_IF_ERROR(tree_.Unlink(dir, entry.name));
    return Ok();
  }
  if (S_ISDIR(inode.mode)) {
    auto opaque = layer.reader().GetXattr(entry.nid, kOpaque);
    bool is_opaque = opaque.has_value() && *opaque == "y";
    if (existing != entries.end() && tree_.node(existing->second).is_dir() && !is_opaque) {
      erofs::NodeId id = existing->second;
      // A directory the layer only implied (a parent of its entries) keeps the lower attributes.
      auto implicit = layer.reader().GetXattr(entry.nid, internal::kImplicitDirXattr);
      if (!implicit.has_value() || *implicit != "y") {
        RETURN_IF_ERROR(CopyAttributes(layer, inode, tree_.node(id)));
      }
      return ApplyDir(layer, id, entry.nid);
    }
    TRY(erofs::Node node, MakeNode(layer, inode));
    erofs::NodeId id = tree_.AddNode(std::move(node));
    RETURN_IF_ERROR(tree_.Link(dir, entry.name, id));
    return ApplyDir(layer, id, entry.nid);
  }
  auto seen = nid_node_.find(entry.nid);
  erofs::NodeId id;
  if (seen != nid_node_.end()) {
    id = seen->second;
  } else {
    TRY(erofs::Node node, MakeNode(layer, inode));
    id = tree_.AddNode(std::move(node));
    nid_node_.emplace(entry.nid, id);
  }
  return tree_.Link(dir, entry.name, id);
}

Status Merger::ApplyDir(const Image& layer, erofs::NodeId dir, uint64_t nid) {
  TRY(auto entries, layer.reader().ReadDir(nid));
  for (const auto& entry : entries) {
    if (entry.name == "." || entry.name == "..") continue;
    RETURN_IF_ERROR(ApplyEntry(layer, dir, entry));
  }
  return Ok();
}

Status Merger::AddLayer(const Image& layer) {
  RETURN_IF_ERROR(MergeBlobs(layer));
  nid_node_.clear();
  uint64_t root = layer.reader().root_nid();
  TRY(erofs::InodeInfo inode, layer.reader().GetInode(root));
  auto implicit = layer.reader().GetXattr(root, internal::kImplicitDirXattr);
  if (!implicit.has_value() || *implicit != "y") {
    RETURN_IF_ERROR(CopyAttributes(layer, inode, tree_.node(tree_.root())));
  }
  return ApplyDir(layer, tree_.root(), root);
}

storage::BootstrapTables Merger::Flatten() const {
  storage::BootstrapTables t;
  t.chunk_size = chunk_size_;
  for (const MergedBlob& mb : blobs_) {
    storage::BlobInfo info = mb.info;
    info.first_frame = static_cast<uint32_t>(t.frames.size());
    info.first_chunk = static_cast<uint32_t>(t.chunks.size());
    t.frames.insert(t.frames.end(), mb.frames.begin(), mb.frames.end());
    t.chunks.insert(t.chunks.end(), mb.chunks.begin(), mb.chunks.end());
    t.blobs.push_back(info);
  }
  for (size_t b = 0; b < blobs_.size(); ++b) {
    t.blobs[b].first_extent = static_cast<uint32_t>(t.extents.size());
    t.blobs[b].extent_count = static_cast<uint32_t>(blobs_[b].extents.size());
    for (size_t i = 0; i < blobs_[b].extents.size(); ++i) {
      storage::ExtentEntry e = blobs_[b].extents[i];
      e.chunk += t.blobs[blobs_[b].extent_blob[i]].first_chunk;
      t.extents.push_back(e);
    }
  }
  return t;
}

Result<MergeResult> Merger::Write(const std::string& output, int64_t build_time) {
  storage::BootstrapTables tables = Flatten();
  MergeResult result;
  TRY(result.bootstrap_bytes, WriteBootstrap(tree_, tables, output, build_time));
  result.blobs = tables.blobs.size();
  result.nodes = tree_.size();
  return result;
}

}  // namespace

Result<MergeResult> MergeBootstraps(const std::vector<std::string>& layers,
                                    const std::string& output, int64_t build_time) {
  if (layers.empty()) return MakeError(ErrorCode::kInvalidArgument, "merge: no layers");
  Merger merger;
  for (const auto& path : layers) {
    TRY(auto image, Image::Open(path));
    Status st = merger.AddLayer(*image);
    if (!st) return st.error().Wrap("merge " + path);
  }
  return merger.Write(output, build_time);
}

}  // namespace tessera::builder
