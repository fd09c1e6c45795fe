// tessera-image unpack into a PAX tar file (libarchive).
//
// Entries are named "./" (the root, carrying its owner, mode, xattrs and mtime) and "./a/b".
// Each inode's first name carries its data; later names are hardlink entries. Xattrs go into
// SCHILY.xattr.* records, which GNU tar, bsdtar and the builder's own tar importer read.
// Sockets have no tar typeflag: they are skipped and counted.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "unpack_util.h"

#include "tessera/builder/image.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::builder {
namespace {

using erofs::InodeInfo;

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

// ARCHIVE_WARN (e.g. a name that is not valid UTF-8, stored as hdrcharset=BINARY) is success.
Status CheckArchive(archive* a, int rc, const std::string& what) {
  if (rc >= ARCHIVE_WARN) return Ok();
  const char* why = archive_error_string(a);
  return MakeError(ErrorCode::kIo, what + ": " + (why != nullptr ? why : "libarchive error"));
}

// libarchive's PAX writer prints (sec, nsec) as "<sec>.<nsec>", which POSIX readers (GNU tar,
// Go) take as sign and magnitude: (-86400, 250000000), the instant -86399.75, would read back
// as -86400.25. So before the epoch it is handed the magnitude's parts, (-86399, 750000000),
// printed "-86399.75" (the tar importer undoes libarchive's matching quirk when reading). A
// time in (-1, 0) has no such form (it would need "-0"): it is written as -1.
void SetMtime(archive_entry* e, int64_t sec, uint32_t nsec) {
  constexpr uint32_t kNsecPerSec = 1'000'000'000;
  if (sec >= 0 || nsec == 0 || nsec >= kNsecPerSec) {
    archive_entry_set_mtime(e, sec, nsec);
  } else if (sec == -1) {
    archive_entry_set_mtime(e, -1, 0);
  } else {
    archive_entry_set_mtime(e, sec + 1, kNsecPerSec - nsec);
  }
}

class TarUnpacker {
 public:
  TarUnpacker(const Image& image, archive* a) : image_(image), a_(a) {}

  Status Visit(const std::string& path, const erofs::DirEntry& entry, const InodeInfo& inode) {
    Status written = CheckedWrite(path, entry, inode);
    if (!written) return written.error().Wrap(path);
    return Ok();
  }

  UnpackStats&& TakeStats() { return std::move(stats_); }

 private:
  Status CheckedWrite(const std::string& path, const erofs::DirEntry& entry,
                      const InodeInfo& inode) {
    if (path == "/") return WriteEntry("./", inode);
    RETURN_IF_ERROR(internal::CheckUnpackName(entry.name));
    if (internal::SplitImagePath(path).second != entry.name) {
      return MakeError(ErrorCode::kInternal, "walk path does not end in '" + entry.name + "'");
    }
    const std::string tar_path = "." + path;
    if (!S_ISDIR(inode.mode) && inode.nlink > 1) {
      auto [it, first] = first_name_.try_emplace(inode.nid, tar_path);
      if (!first) return it->second.empty() ? Skip(path) : WriteHardlink(tar_path, it->second);
      if (S_ISSOCK(inode.mode)) it->second.clear();  // later names of a socket are skipped too
    }
    if (S_ISSOCK(inode.mode)) return Skip(path);
    ++stats_.entries;
    return WriteEntry(tar_path, inode);
  }

  Status Skip(const std::string& path) {
    ++stats_.skipped;
    stats_.skipped_paths.push_back(path);
    return Ok();
  }

  Status WriteHardlink(const std::string& tar_path, const std::string& first) {
    ++stats_.entries;
    ++stats_.hardlinks;
    EntryPtr e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), tar_path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_copy_hardlink(e.get(), first.c_str());
    archive_entry_set_size(e.get(), 0);
    return CheckArchive(a_, archive_write_header(a_, e.get()), "write hardlink entry");
  }

  Status WriteEntry(const std::string& tar_path, const InodeInfo& inode) {
    EntryPtr e(archive_entry_new());
    archive_entry* raw = e.get();
    archive_entry_copy_pathname(raw, tar_path.c_str());
    archive_entry_set_mode(raw, inode.mode);  // file type and permission bits
    archive_entry_set_uid(raw, inode.uid);
    archive_entry_set_gid(raw, inode.gid);
    SetMtime(raw, inode.mtime, inode.mtime_nsec);
    if (S_ISREG(inode.mode)) archive_entry_set_size(raw, static_cast<la_int64_t>(inode.size));
    if (S_ISLNK(inode.mode)) {
      TRY(const std::string target, image_.reader().ReadLink(inode.nid));
      archive_entry_copy_symlink(raw, target.c_str());
    }
    if (S_ISCHR(inode.mode) || S_ISBLK(inode.mode)) {
      archive_entry_set_rdevmajor(raw, major(static_cast<dev_t>(inode.rdev)));
      archive_entry_set_rdevminor(raw, minor(static_cast<dev_t>(inode.rdev)));
    }
    TRY(const auto xattrs, image_.reader().ListXattrs(inode.nid));
    for (const erofs::Xattr& x : xattrs) {
      archive_entry_xattr_add_entry(raw, x.name.c_str(), x.value.data(), x.value.size());
    }
    RETURN_IF_ERROR(CheckArchive(a_, archive_write_header(a_, raw), "write entry header"));
    if (!S_ISREG(inode.mode)) return Ok();
    stats_.bytes += inode.size;
    return internal::StreamFileData(
        image_, inode, [this](uint64_t, std::span<const uint8_t> piece) -> Status {
          const la_ssize_t n = archive_write_data(a_, piece.data(), piece.size());
          if (n == static_cast<la_ssize_t>(piece.size())) return Ok();
          return CheckArchive(a_, ARCHIVE_FATAL, "write data");
        });
  }

  const Image& image_;
  archive* a_;
  // nid -> tar path of its first name (nlink > 1); "" once the first name was a skipped socket.
  std::unordered_map<uint64_t, std::string> first_name_;
  UnpackStats stats_;
};

Result<UnpackStats> WriteTar(const Image& image, int fd, const std::string& name) {
  ArchivePtr a(archive_write_new());
  if (!a) return MakeError(ErrorCode::kInternal, "archive_write_new failed");
  RETURN_IF_ERROR(CheckArchive(a.get(), archive_write_set_format_pax(a.get()), "pax format"));
  RETURN_IF_ERROR(CheckArchive(
      a.get(), archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY"),
      "pax xattrheader=SCHILY"));
  RETURN_IF_ERROR(CheckArchive(a.get(), archive_write_open_fd(a.get(), fd), "open " + name));
  TarUnpacker tar(image, a.get());
  RETURN_IF_ERROR(image.reader().Walk(
      [&tar](const std::string& path, const erofs::DirEntry& entry, const InodeInfo& inode) {
        return tar.Visit(path, entry, inode);
      }));
  RETURN_IF_ERROR(CheckArchive(a.get(), archive_write_close(a.get()), "finish " + name));
  return tar.TakeStats();
}

}  // namespace

Result<UnpackStats> UnpackToTar(const Image& image, const std::string& tar_path) {
  const std::string tmp = tar_path + ".tmp";
  TRY(UniqueFd fd, UniqueFd::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644));
  ScopeExit remove_tmp([&tmp] { ::unlink(tmp.c_str()); });
  TRY(UnpackStats stats, WriteTar(image, fd.get(), tmp));
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "fsync " + tmp);
  if (::rename(tmp.c_str(), tar_path.c_str()) != 0) {
    return ErrnoError(errno, "rename " + tmp + " to " + tar_path);
  }
  remove_tmp.Dismiss();
  return stats;
}

}  // namespace tessera::builder
