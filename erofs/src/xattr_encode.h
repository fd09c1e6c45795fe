// Private to the EROFS writer: inline xattr area encoding (§6).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::erofs::writer_internal {

struct XattrNameParts {
  uint8_t index = 0;        // e_name_index
  std::string_view suffix;  // name with the prefix stripped (empty for POSIX ACLs)
};

// Splits a full xattr name into its §6 name index and suffix; nullopt if the namespace has no
// short prefix (or the suffix is empty where one is required).
std::optional<XattrNameParts> SplitXattrName(std::string_view name);

// Encodes the xattr area for an inode: the 12-byte header and the inline entries, sorted by
// (name index, suffix), each padded to 4 bytes. Empty input gives an empty area. Fails on an
// unsupported namespace, a duplicate name, a suffix over 255 bytes, a value over 65535 bytes
// or an area too large for i_xattr_icount; the error names the xattr.
Result<std::vector<uint8_t>> EncodeXattrArea(const std::vector<Xattr>& xattrs);

// i_xattr_icount for an area of `area_size` bytes (0 → 0).
uint16_t XattrIcount(size_t area_size);

}  // namespace tessera::erofs::writer_internal
