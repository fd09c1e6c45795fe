// Inline xattr area, §6: header, then entries {name_len, name_index, value_size, suffix,
// value} padded to 4 bytes. Shared xattrs are never written (h_shared_count = 0).
#include "xattr_encode.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>

#include "tessera/erofs/format.h"
#include "tessera/erofs/writer.h"

namespace tessera::erofs {
namespace writer_internal {
namespace {

struct PrefixRule {
  std::string_view prefix;
  uint8_t index;
  bool exact;  // the whole name is the prefix (POSIX ACLs: name_len 0)
};

constexpr PrefixRule kPrefixes[] = {
    {"user.", kXattrIndexUser, false},
    {"system.posix_acl_access", kXattrIndexPosixAclAccess, true},
    {"system.posix_acl_default", kXattrIndexPosixAclDefault, true},
    {"trusted.", kXattrIndexTrusted, false},
    {"security.", kXattrIndexSecurity, false},
};

constexpr size_t kMaxAreaSize = sizeof(XattrIbodyHeader) + 4 * (size_t{0xFFFF} - 1);

struct PendingEntry {
  XattrNameParts parts;
  const Xattr* xattr;
};

size_t EntrySize(const PendingEntry& e) {
  const size_t raw = sizeof(XattrEntry) + e.parts.suffix.size() + e.xattr->value.size();
  return (raw + 3) & ~size_t{3};
}

Result<std::vector<PendingEntry>> ClassifyAll(const std::vector<Xattr>& xattrs) {
  std::vector<PendingEntry> entries;
  entries.reserve(xattrs.size());
  for (const Xattr& x : xattrs) {
    auto parts = SplitXattrName(x.name);
    if (!parts) {
      return MakeError(ErrorCode::kUnsupported,
                       "xattr '" + x.name +
                           "': namespace not storable in EROFS (only user., trusted., "
                           "security. and system.posix_acl_{access,default})");
    }
    if (parts->suffix.size() > kMaxNameLen) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "xattr '" + x.name + "': name suffix longer than 255 bytes");
    }
    if (x.value.size() > 0xFFFF) {
      return MakeError(ErrorCode::kTooLarge, "xattr '" + x.name + "': value of " +
                                                 std::to_string(x.value.size()) +
                                                 " bytes exceeds 65535");
    }
    entries.push_back({*parts, &x});
  }
  return entries;
}

}  // namespace

std::optional<XattrNameParts> SplitXattrName(std::string_view name) {
  for (const PrefixRule& rule : kPrefixes) {
    if (rule.exact) {
      if (name == rule.prefix) return XattrNameParts{rule.index, {}};
      continue;
    }
    if (name.size() > rule.prefix.size() && name.starts_with(rule.prefix)) {
      return XattrNameParts{rule.index, name.substr(rule.prefix.size())};
    }
  }
  return std::nullopt;
}

Result<std::vector<uint8_t>> EncodeXattrArea(const std::vector<Xattr>& xattrs) {
  if (xattrs.empty()) return std::vector<uint8_t>{};
  TRY(std::vector<PendingEntry> entries, ClassifyAll(xattrs));
  std::sort(entries.begin(), entries.end(), [](const PendingEntry& a, const PendingEntry& b) {
    return std::tie(a.parts.index, a.parts.suffix) < std::tie(b.parts.index, b.parts.suffix);
  });
  size_t area = sizeof(XattrIbodyHeader);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].parts.index == entries[i - 1].parts.index &&
        entries[i].parts.suffix == entries[i - 1].parts.suffix) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "xattr '" + entries[i].xattr->name + "': duplicate name");
    }
    area += EntrySize(entries[i]);
  }
  if (area > kMaxAreaSize) {
    return MakeError(ErrorCode::kTooLarge, "xattrs: inline area of " + std::to_string(area) +
                                               " bytes exceeds the i_xattr_icount limit");
  }
  std::vector<uint8_t> out(area, 0);  // header: no name filter, no shared xattrs
  size_t pos = sizeof(XattrIbodyHeader);
  for (const PendingEntry& e : entries) {
    XattrEntry header{};
    header.e_name_len = static_cast<uint8_t>(e.parts.suffix.size());
    header.e_name_index = e.parts.index;
    header.e_value_size = static_cast<uint16_t>(e.xattr->value.size());
    std::memcpy(out.data() + pos, &header, sizeof(header));
    // std::copy, not memcpy: an empty suffix may have a null data pointer.
    uint8_t* dst = out.data() + pos + sizeof(header);
    dst = std::copy(e.parts.suffix.begin(), e.parts.suffix.end(), dst);
    std::copy(e.xattr->value.begin(), e.xattr->value.end(), dst);
    pos += EntrySize(e);
  }
  return out;
}

uint16_t XattrIcount(size_t area_size) {
  if (area_size == 0) return 0;
  return static_cast<uint16_t>(1 + (area_size - sizeof(XattrIbodyHeader)) / 4);
}

}  // namespace writer_internal

bool IsStorableXattrName(std::string_view name) {
  auto parts = writer_internal::SplitXattrName(name);
  return parts.has_value() && parts->suffix.size() <= kMaxNameLen;
}

}  // namespace tessera::erofs
