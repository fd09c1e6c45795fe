#include "tar/tar_entry.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdint>

#include "tar/tar_path.h"

#include "tessera/erofs/writer.h"

namespace tessera::builder::internal {
namespace {

constexpr size_t kMaxXattrValue = 0xFFFF;  // EROFS's xattr entry value_size is 16 bits

Status CheckLength(const std::string& value, const char* what, const TarImportOptions& options) {
  if (value.size() > options.max_path_length) {
    return MakeError(ErrorCode::kTooLarge,
                     std::string(what) + " of " + std::to_string(value.size()) +
                         " bytes exceeds the limit of " + std::to_string(options.max_path_length));
  }
  return Ok();
}

Result<uint32_t> CheckId(la_int64_t id, const char* what) {
  if (id < 0 || id > static_cast<la_int64_t>(UINT32_MAX)) {
    return MakeError(ErrorCode::kCorrupt,
                     std::string(what) + " " + std::to_string(id) + " is not a 32-bit id");
  }
  return static_cast<uint32_t>(id);
}

Status DecodeAttrs(archive_entry* e, uint32_t type, erofs::Node& node) {
  node.mode = type | (static_cast<uint32_t>(archive_entry_perm(e)) & 07777);
  TRY(node.uid, CheckId(archive_entry_uid(e), "uid"));
  TRY(node.gid, CheckId(archive_entry_gid(e), "gid"));
  if (archive_entry_mtime_is_set(e)) {
    int64_t sec = archive_entry_mtime(e);
    long nsec = archive_entry_mtime_nsec(e);  // NOLINT(runtime/int): libarchive's type
    // libarchive parses PAX "mtime=-86399.75" as (-86399, 750000000): the fraction keeps the
    // magnitude's sign. The instant is -86400 + 0.25. (A value in (-1, 0) loses its sign in
    // libarchive already and cannot be recovered here.)
    if (sec < 0 && nsec > 0 && nsec < 1'000'000'000 && sec > INT64_MIN) {
      sec -= 1;
      nsec = 1'000'000'000 - nsec;
    }
    node.mtime = sec;
    node.mtime_nsec = nsec >= 0 && nsec < 1'000'000'000 ? static_cast<uint32_t>(nsec) : 0;
  }
  return Ok();
}

Status DecodeXattrs(archive_entry* e, erofs::Node& node, TarImportStats& stats) {
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (name == nullptr) continue;
    erofs::Xattr x{name,
                   size == 0 ? std::string() : std::string(static_cast<const char*>(value), size)};
    if (!erofs::IsStorableXattrName(x.name)) {
      ++stats.dropped_xattrs;
      AddWarning(stats, "xattr '" + x.name + "' dropped: namespace not storable in EROFS");
      continue;
    }
    if (x.value.size() > kMaxXattrValue) {
      return MakeError(ErrorCode::kUnsupported, "xattr '" + x.name + "' has a value of " +
                                                    std::to_string(x.value.size()) +
                                                    " bytes (EROFS allows 65535)");
    }
    auto same = std::find_if(node.xattrs.begin(), node.xattrs.end(),
                             [&](const erofs::Xattr& o) { return o.name == x.name; });
    if (same != node.xattrs.end()) {
      same->value = std::move(x.value);  // a repeated PAX key: the last one wins
    } else {
      node.xattrs.push_back(std::move(x));
    }
  }
  if (archive_entry_acl_count(e, ARCHIVE_ENTRY_ACL_TYPE_POSIX1E | ARCHIVE_ENTRY_ACL_TYPE_NFS4) >
      0) {
    ++stats.dropped_acls;
    AddWarning(stats, "text ACLs (SCHILY.acl.*) dropped; only xattr-form ACLs are kept");
  }
  return Ok();
}

TarEntryKind KindOf(archive_entry* e, uint32_t* type) {
  *type = archive_entry_filetype(e);
  switch (*type) {
    case AE_IFREG:
      return TarEntryKind::kRegular;
    case AE_IFDIR:
      return TarEntryKind::kDirectory;
    case AE_IFLNK:
      return TarEntryKind::kSymlink;
    case AE_IFCHR:
      return TarEntryKind::kCharDevice;
    case AE_IFBLK:
      return TarEntryKind::kBlockDevice;
    case AE_IFIFO:
      return TarEntryKind::kFifo;
    default:
      return TarEntryKind::kOther;
  }
}

Status DecodeTypeSpecific(archive_entry* e, const TarImportOptions& options, TarEntry& out) {
  switch (out.kind) {
    case TarEntryKind::kRegular: {
      const la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
      if (size < 0) {
        return MakeError(ErrorCode::kCorrupt, "negative size " + std::to_string(size));
      }
      out.size = static_cast<uint64_t>(size);
      out.sparse = archive_entry_sparse_count(e) > 0;
      return Ok();
    }
    case TarEntryKind::kSymlink: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr || *target == '\0') {
        return MakeError(ErrorCode::kCorrupt, "symlink without a target");
      }
      out.node.symlink_target = target;
      out.node.size = out.node.symlink_target.size();
      return CheckLength(out.node.symlink_target, "symlink target", options);
    }
    case TarEntryKind::kCharDevice:
    case TarEntryKind::kBlockDevice:
      out.node.rdev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
      return Ok();
    default:
      return Ok();
  }
}

}  // namespace

void AddWarning(TarImportStats& stats, std::string warning) {
  if (stats.warnings.size() < TarImportStats::kMaxWarnings) {
    stats.warnings.push_back(std::move(warning));
  }
}

Result<TarEntry> DecodeEntry(archive_entry* e, const TarImportOptions& options,
                             TarImportStats& stats) {
  const char* path = archive_entry_pathname(e);
  if (path == nullptr) return MakeError(ErrorCode::kCorrupt, "entry without a usable name");
  TarEntry out;
  out.path = path;
  RETURN_IF_ERROR(CheckLength(out.path, "name", options));
  TRY(out.parts, SplitTarPath(out.path));
  if (const char* link = archive_entry_hardlink(e); link != nullptr) {
    out.kind = TarEntryKind::kHardLink;
    out.link_path = link;
    RETURN_IF_ERROR(CheckLength(out.link_path, "hard link target", options));
    auto link_parts = SplitTarPath(out.link_path);
    if (!link_parts.has_value()) return link_parts.error().Wrap("hard link target");
    out.link_parts = std::move(link_parts).value();
    return out;
  }
  uint32_t type = 0;
  out.kind = KindOf(e, &type);
  if (out.kind == TarEntryKind::kOther) return out;
  RETURN_IF_ERROR(DecodeAttrs(e, type, out.node));
  RETURN_IF_ERROR(DecodeTypeSpecific(e, options, out));
  RETURN_IF_ERROR(DecodeXattrs(e, out.node, stats));
  return out;
}

}  // namespace tessera::builder::internal
