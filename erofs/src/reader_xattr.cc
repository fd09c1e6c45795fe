// Extended attributes (§6): the inline xattr area and shared xattrs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

constexpr uint8_t kXattrLongPrefixBit = 0x80;

// Prefix for a short name index, or nullptr if the index is unknown.
const char* PrefixFor(uint8_t index) {
  switch (index) {
    case kXattrIndexUser:
      return "user.";
    case kXattrIndexPosixAclAccess:
      return "system.posix_acl_access";
    case kXattrIndexPosixAclDefault:
      return "system.posix_acl_default";
    case kXattrIndexTrusted:
      return "trusted.";
    case kXattrIndexLustre:
      return "lustre.";
    case kXattrIndexSecurity:
      return "security.";
    default:
      return nullptr;
  }
}

struct Parsed {
  Xattr xattr;
  uint64_t padded_size = 0;  // entry size rounded up to 4 bytes
};

// Decodes the entry at bytes[pos]; `where` names it in errors.
Result<Parsed> ParseEntry(std::span<const uint8_t> bytes, uint64_t pos, const std::string& where) {
  if (!RangeInside(pos, sizeof(XattrEntry), bytes.size())) {
    return Corrupt(Cat(where, ": entry header past the end"));
  }
  const auto entry = LoadAt<XattrEntry>(bytes, pos);
  const uint64_t body = uint64_t{entry.e_name_len} + entry.e_value_size;
  if (!RangeInside(pos + sizeof(XattrEntry), body, bytes.size())) {
    return Corrupt(Cat(where, ": name (", unsigned{entry.e_name_len}, " bytes) and value (",
                       entry.e_value_size, " bytes) run past the end"));
  }
  if (entry.e_name_index & kXattrLongPrefixBit) {
    return Unsupported(Cat(where, ": long name prefix index ", unsigned{entry.e_name_index},
                           " (xattr_prefixes) is not supported"));
  }
  const char* prefix = PrefixFor(entry.e_name_index);
  if (prefix == nullptr) {
    return Corrupt(Cat(where, ": unknown e_name_index ", unsigned{entry.e_name_index}));
  }
  const bool acl = entry.e_name_index == kXattrIndexPosixAclAccess ||
                   entry.e_name_index == kXattrIndexPosixAclDefault;
  if (entry.e_name_len == 0 && !acl) return Corrupt(Cat(where, ": empty name"));
  // SAFETY: uint8_t -> char view of bytes bounds-checked above.
  const char* base = reinterpret_cast<const char*>(bytes.data() + pos + sizeof(XattrEntry));
  Parsed parsed;
  parsed.xattr.name = std::string(prefix) + std::string(base, entry.e_name_len);
  if (parsed.xattr.name.find('\0') != std::string::npos) {
    return Corrupt(Cat(where, ": name contains NUL"));
  }
  parsed.xattr.value.assign(base + entry.e_name_len, entry.e_value_size);
  parsed.padded_size = DivRoundUp(sizeof(XattrEntry) + body, 4) * 4;
  return parsed;
}

}  // namespace

Result<std::vector<Xattr>> ReadXattrs(const Image& image, const InodeInfo& inode) {
  std::vector<Xattr> out;
  if (inode.xattr_size == 0) return out;
  const std::string where = Cat("nid ", inode.nid, ": xattr");
  TRY(const auto area,
      image.Slice(inode.inode_offset + inode.inode_size, inode.xattr_size, where + " area"));
  const auto header = LoadAt<XattrIbodyHeader>(area, 0);
  const uint64_t shared_end = sizeof(XattrIbodyHeader) + 4ull * header.h_shared_count;
  if (shared_end > area.size()) {
    return Corrupt(Cat(where, ": h_shared_count ", unsigned{header.h_shared_count},
                       " exceeds the xattr area (", area.size(), " bytes)"));
  }
  const uint64_t shared_base = uint64_t{image.sb.xattr_blkaddr} << image.blkszbits;
  for (uint64_t i = 0; i < header.h_shared_count; ++i) {
    const uint32_t id = LoadAt<uint32_t>(area, sizeof(XattrIbodyHeader) + 4 * i);
    TRY(Parsed parsed,
        ParseEntry(image.bytes, shared_base + 4ull * id, Cat(where, ": shared xattr id ", id)));
    out.push_back(std::move(parsed.xattr));
  }
  uint64_t pos = shared_end;
  while (pos < area.size()) {
    TRY(Parsed parsed, ParseEntry(area, pos, Cat(where, " entry at area offset ", pos)));
    if (parsed.padded_size > area.size() - pos) {
      return Corrupt(Cat(where, " entry at area offset ", pos, ": padding runs past the area"));
    }
    pos += parsed.padded_size;
    out.push_back(std::move(parsed.xattr));
  }
  return out;
}

}  // namespace tessera::erofs::internal
