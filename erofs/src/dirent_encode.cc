// Directory blocks, §5: [dirents][names][zero padding] per block; all entries of the
// directory, dots included, in ascending bytewise order across blocks.
#include "dirent_encode.h"

#include <algorithm>
#include <cstring>

namespace tessera::erofs::writer_internal {
namespace {

uint32_t EntryBytes(const DirentRef& e) {
  return static_cast<uint32_t>(sizeof(Dirent) + e.name.size());
}

void InsertSorted(std::vector<DirentRef>& v, DirentRef entry) {
  // std::string_view compares via char_traits<char>, i.e. as unsigned bytes.
  auto it = std::lower_bound(v.begin(), v.end(), entry.name,
                             [](const DirentRef& a, std::string_view b) { return a.name < b; });
  v.insert(it, entry);
}

}  // namespace

std::vector<DirentRef> SortedDirents(const Node& dir, uint64_t self_nid, uint64_t parent_nid) {
  std::vector<DirentRef> out;
  out.reserve(dir.entries.size() + 2);
  for (const auto& [name, child] : dir.entries) out.push_back({name, 0, FileType::kUnknown, child});
  InsertSorted(out, {".", self_nid, FileType::kDirectory, 0});
  InsertSorted(out, {"..", parent_nid, FileType::kDirectory, 0});
  return out;
}

DirPacking PackDirents(std::span<const DirentRef> entries) {
  DirPacking packing;
  uint32_t used = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint32_t need = EntryBytes(entries[i]);
    if (i == 0 || used + need > kBlockSize) {
      if (i > 0) packing.size += kBlockSize;
      packing.block_first.push_back(static_cast<uint32_t>(i));
      used = 0;
    }
    used += need;
  }
  packing.size += used;
  return packing;
}

uint32_t EncodeDirBlock(std::span<const DirentRef> entries, const DirPacking& packing, size_t block,
                        std::span<uint8_t> out) {
  std::fill(out.begin(), out.end(), 0);
  const size_t first = packing.block_first[block];
  const size_t end =
      block + 1 < packing.block_first.size() ? packing.block_first[block + 1] : entries.size();
  uint32_t name_pos = static_cast<uint32_t>(sizeof(Dirent) * (end - first));
  for (size_t i = first; i < end; ++i) {
    const DirentRef& e = entries[i];
    Dirent d{};
    d.nid = e.nid;
    d.nameoff = static_cast<uint16_t>(name_pos);
    d.file_type = static_cast<uint8_t>(e.type);
    std::memcpy(out.data() + sizeof(Dirent) * (i - first), &d, sizeof(d));
    std::memcpy(out.data() + name_pos, e.name.data(), e.name.size());
    name_pos += static_cast<uint32_t>(e.name.size());
  }
  return name_pos;
}

}  // namespace tessera::erofs::writer_internal
