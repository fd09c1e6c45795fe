#include "dump_model.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "tessera/common/digest.h"
#include "tessera/erofs/format.h"

namespace tessera::builder::cli {
namespace {

using json = nlohmann::ordered_json;

template <size_t N>
json FeatureList(uint32_t bits, const std::array<erofs::FeatureBitName, N>& names) {
  json out = json::array();
  for (const auto& f : names) {
    if (bits & f.bit) out.push_back(f.name);
    bits &= ~f.bit;
  }
  if (bits != 0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "unknown(0x%x)", bits);
    out.push_back(buf);
  }
  return out;
}

std::string UuidString(const std::array<uint8_t, 16>& u) {
  char buf[40];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  return buf;
}

std::string IsoTime(int64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char* TypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "chardev";
    case S_IFBLK:
      return "blockdev";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown";
  }
}

const char* LayoutName(erofs::DataLayout layout) {
  switch (layout) {
    case erofs::DataLayout::kFlatPlain:
      return "flat_plain";
    case erofs::DataLayout::kFlatInline:
      return "flat_inline";
    case erofs::DataLayout::kChunkBased:
      return "chunk_based";
    default:
      return "compressed";
  }
}

Result<json> ChunkJson(const erofs::Reader& reader, uint64_t nid, bool detail) {
  TRY(const erofs::ChunkMap map, reader.GetChunkMap(nid));
  std::set<uint16_t> devices;
  uint64_t holes = 0;
  json list = json::array();
  for (const erofs::ChunkRef& ref : map.chunks) {
    if (ref.blkaddr == erofs::kNullAddr) {
      ++holes;
    } else {
      devices.insert(ref.device_id);
    }
    if (detail) list.push_back({{"device", ref.device_id}, {"blkaddr", ref.blkaddr}});
  }
  json out = {{"count", map.chunks.size()},
              {"chunk_size", map.chunk_size},
              {"indexes", map.indexes},
              {"devices", devices},
              {"holes", holes}};
  if (detail) out["map"] = std::move(list);
  return out;
}

// SHA-256 of the whole content, or the reason it cannot be read.
void AddDigest(const erofs::Reader& reader, const erofs::InodeInfo& inode,
               std::span<const ByteSource* const> devices, json& out) {
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  uint64_t offset = 0;
  while (offset < inode.size) {
    auto n = reader.Read(inode.nid, offset, buf, devices);
    if (!n) {
      out["data_error"] = n.error().ToString();
      return;
    }
    if (*n == 0) break;
    sha.Update(std::span<const uint8_t>(buf.data(), *n));
    offset += *n;
  }
  const Sha256Digest digest = sha.Finish();
  out["sha256"] = ToHex(digest);
}

json XattrsJson(const std::vector<erofs::Xattr>& xattrs) {
  json out = json::array();
  for (const erofs::Xattr& x : xattrs) {
    // SAFETY: char -> uint8_t view of the value's own bytes.
    std::span<const uint8_t> value(reinterpret_cast<const uint8_t*>(x.value.data()),
                                   x.value.size());
    out.push_back({{"name", x.name}, {"value_hex", ToHex(value)}});
  }
  return out;
}

}  // namespace

json SuperBlockJson(const erofs::Reader& reader) {
  const erofs::SuperBlockInfo& sb = reader.super();
  char magic[16];
  std::snprintf(magic, sizeof(magic), "0x%08X", erofs::kMagic);
  return {
      {"magic", magic},
      {"block_size", sb.block_size},
      {"feature_compat", sb.feature_compat},
      {"feature_incompat", sb.feature_incompat},
      {"features_compat", FeatureList(sb.feature_compat, erofs::kCompatFeatureNames)},
      {"features_incompat", FeatureList(sb.feature_incompat, erofs::kIncompatFeatureNames)},
      {"checksum", sb.checksum_present ? "verified" : "absent"},
      {"root_nid", sb.root_nid},
      {"inodes", sb.inos},
      {"blocks", sb.blocks},
      {"meta_blkaddr", sb.meta_blkaddr},
      {"xattr_blkaddr", sb.xattr_blkaddr},
      {"uuid", UuidString(sb.uuid)},
      {"volume_name", sb.volume_name},
      {"build_time", sb.build_time},
      {"build_time_nsec", sb.build_time_nsec},
      {"build_time_utc", IsoTime(sb.build_time)},
      {"extra_devices", sb.extra_devices},
      {"devt_slotoff", sb.devt_slotoff},
  };
}

json DevicesJson(const erofs::Reader& reader, std::span<const ByteSource* const> provided) {
  json out = json::array();
  const auto& devices = reader.devices();
  for (size_t i = 0; i < devices.size(); ++i) {
    json dev = {{"id", i + 1},
                {"tag", devices[i].tag},
                {"blocks", devices[i].blocks},
                {"mapped_blkaddr", devices[i].mapped_blkaddr}};
    if (i < provided.size() && provided[i] != nullptr) dev["file_size"] = provided[i]->Size();
    out.push_back(std::move(dev));
  }
  return out;
}

Result<json> EntryJson(const erofs::Reader& reader, const std::string& path,
                       const erofs::InodeInfo& inode, bool detail,
                       std::span<const ByteSource* const> devices) {
  json e = {{"path", path},
            {"nid", inode.nid},
            {"type", TypeName(inode.mode)},
            {"mode", inode.mode},
            {"nlink", inode.nlink},
            {"uid", inode.uid},
            {"gid", inode.gid},
            {"size", inode.size},
            {"mtime", inode.mtime},
            {"mtime_nsec", inode.mtime_nsec},
            {"layout", LayoutName(inode.layout)},
            {"extended", inode.extended}};
  if (S_ISLNK(inode.mode)) {
    TRY(e["target"], reader.ReadLink(inode.nid));
  }
  if (S_ISCHR(inode.mode) || S_ISBLK(inode.mode)) {
    e["rdev"] = {{"major", major(inode.rdev)}, {"minor", minor(inode.rdev)}};
  }
  if (inode.layout == erofs::DataLayout::kChunkBased) {
    TRY(e["chunks"], ChunkJson(reader, inode.nid, detail));
  }
  if (!detail) return e;
  TRY(const auto xattrs, reader.ListXattrs(inode.nid));
  e["xattrs"] = XattrsJson(xattrs);
  if (S_ISREG(inode.mode)) AddDigest(reader, inode, devices, e);
  return e;
}

}  // namespace tessera::builder::cli
