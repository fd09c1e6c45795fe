// The libfuse3 low-level callbacks over ImageFs (one reply per request, errors as errno).
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "fuse/fuse_state.h"

namespace tessera::nydusd {
namespace {

constexpr fuse_ino_t kRootId = FUSE_ROOT_ID;

FuseServer::State& S(fuse_req_t req) {
  return *static_cast<FuseServer::State*>(fuse_req_userdata(req));
}

uint64_t NidOf(const FuseServer::State& s, fuse_ino_t ino) {
  return ino == kRootId ? s.fs->root_nid() : ino - 2;
}

fuse_ino_t InoOf(const FuseServer::State& s, uint64_t nid) { return InoOfNid(s, nid); }

// EROFS dirent file types (§5) to the d_type values in st_mode form.
mode_t ModeOfType(erofs::FileType type) {
  switch (type) {
    case erofs::FileType::kRegular:
      return S_IFREG;
    case erofs::FileType::kDirectory:
      return S_IFDIR;
    case erofs::FileType::kCharDevice:
      return S_IFCHR;
    case erofs::FileType::kBlockDevice:
      return S_IFBLK;
    case erofs::FileType::kFifo:
      return S_IFIFO;
    case erofs::FileType::kSocket:
      return S_IFSOCK;
    case erofs::FileType::kSymlink:
      return S_IFLNK;
    default:
      return 0;
  }
}

int Errno(const Error& e) { return ErrorCodeToErrno(e.code, e.sys_errno); }

struct stat ToStat(const erofs::InodeInfo& in) {
  struct stat st {};
  st.st_ino = in.nid;
  st.st_mode = in.mode;
  st.st_nlink = in.nlink;
  st.st_uid = in.uid;
  st.st_gid = in.gid;
  st.st_rdev = in.rdev;
  st.st_size = static_cast<off_t>(in.size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((in.size + 511) / 512);
  st.st_mtim.tv_sec = in.mtime;
  st.st_mtim.tv_nsec = in.mtime_nsec;
  st.st_atim = st.st_mtim;
  st.st_ctim = st.st_mtim;
  return st;
}

// Times one operation for the observer.
class OpTimer {
 public:
  OpTimer(FuseServer::State& s, const char* name)
      : s_(s), name_(name), start_(std::chrono::steady_clock::now()) {}
  ~OpTimer() {
    if (s_.observer) s_.observer->Op(name_, std::chrono::steady_clock::now() - start_, ok_);
  }
  void Fail() { ok_ = false; }

 private:
  FuseServer::State& s_;
  const char* name_;
  std::chrono::steady_clock::time_point start_;
  bool ok_ = true;
};

void ReplyError(fuse_req_t req, OpTimer& t, const Error& e, int no_log_errno = 0) {
  int err = Errno(e);
  if (err != no_log_errno) {
    t.Fail();
    if (S(req).logger) S(req).logger->Warn("request failed", {{"error", e.ToString()}});
  }
  fuse_reply_err(req, err);
}

void Init(void* userdata, struct fuse_conn_info* conn) {
  auto& s = *static_cast<FuseServer::State*>(userdata);
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  // Always readdirplus: in "auto" mode the kernel falls back to readdir after the first buffer
  // and then sends one lookup per entry (measured: 18k lookups for an 18k-entry directory).
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  // The image never changes: no attribute check on every read (libfuse turns this on by default),
  // and the page cache stays valid whatever the attributes say.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  s.no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
  s.no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
  conn->max_readahead = 1u << 20;
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto& s = S(req);
  OpTimer t(s, "lookup");
  fuse_entry_param e{};
  e.entry_timeout = s.timeout;
  auto entry = s.fs->Lookup(NidOf(s, parent), name);
  if (!entry && entry.error().code == ErrorCode::kNotFound) {
    fuse_reply_entry(req, &e);  // ino 0: a cached negative entry
    return;
  }
  if (!entry) return ReplyError(req, t, entry.error());
  auto inode = s.fs->GetAttr(entry->nid);
  if (!inode) return ReplyError(req, t, inode.error());
  e.ino = InoOf(s, entry->nid);
  e.attr = ToStat(*inode);
  e.attr_timeout = s.timeout;
  fuse_reply_entry(req, &e);
}

void GetAttr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
  auto& s = S(req);
  OpTimer t(s, "getattr");
  auto inode = s.fs->GetAttr(NidOf(s, ino));
  if (!inode) return ReplyError(req, t, inode.error());
  struct stat st = ToStat(*inode);
  fuse_reply_attr(req, &st, s.timeout);
}

void Open(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  auto& s = S(req);
  if (s.no_open) return (void)fuse_reply_err(req, ENOSYS);  // kernel stops sending opens
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info*) {
  auto& s = S(req);
  OpTimer t(s, "read");
  // Uninitialized: Read writes every byte it reports. Zero-filling up to max_read per request
  // was ~2% of the daemon's CPU in a cold read-all profile.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size]);
  auto n =
      s.fs->Read(NidOf(s, ino), static_cast<uint64_t>(off), std::span<uint8_t>(buf.get(), size));
  if (!n) return ReplyError(req, t, n.error());
  if (s.observer) s.observer->BytesRead(*n);
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.get()), *n);
  // After the reply, on the push thread: the reader goes on while the files it will probably
  // read next are pushed.
  if (off == 0 && s.pusher) {
    s.push->NoteRead(NidOf(s, ino));
    s.pusher->Enqueue(NidOf(s, ino));
  }
}

void OpenDir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  auto& s = S(req);
  if (s.no_opendir) return (void)fuse_reply_err(req, ENOSYS);
  OpTimer t(s, "opendir");
  auto inode = s.fs->GetAttr(NidOf(s, ino));
  if (!inode) return ReplyError(req, t, inode.error());
  if (!S_ISDIR(inode->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  fi->keep_cache = 1;
  fi->cache_readdir = 1;
  fuse_reply_open(req, fi);
}

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  auto& s = S(req);
  OpTimer t(s, plus ? "readdirplus" : "readdir");
  auto entries = s.fs->ReadDirCached(NidOf(s, ino));
  if (!entries) return ReplyError(req, t, entries.error());
  if (off == 0 && s.push) s.push->Listed(NidOf(s, ino), *entries);
  std::vector<char> buf(size);
  size_t used = 0;
  const std::vector<erofs::DirEntry>& list = **entries;
  for (size_t i = static_cast<size_t>(off); i < list.size(); ++i) {
    const erofs::DirEntry& d = list[i];
    size_t n;
    if (plus) {
      fuse_entry_param e{};
      auto inode = s.fs->GetAttr(d.nid);
      if (!inode) return ReplyError(req, t, inode.error());
      e.attr = ToStat(*inode);
      bool dot = d.name == "." || d.name == "..";
      e.ino = dot ? 0 : InoOf(s, d.nid);  // "." and ".." must not create lookups
      e.attr_timeout = e.entry_timeout = s.timeout;
      n = fuse_add_direntry_plus(req, buf.data() + used, size - used, d.name.c_str(), &e,
                                 static_cast<off_t>(i + 1));
    } else {
      struct stat st {};
      st.st_ino = d.nid;
      st.st_mode = ModeOfType(d.type);
      n = fuse_add_direntry(req, buf.data() + used, size - used, d.name.c_str(), &st,
                            static_cast<off_t>(i + 1));
    }
    if (n > size - used) break;
    used += n;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info*) {
  ReadDirCommon(req, ino, size, off, false);
}

void ReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info*) {
  ReadDirCommon(req, ino, size, off, true);
}

void ReadLink(fuse_req_t req, fuse_ino_t ino) {
  auto& s = S(req);
  OpTimer t(s, "readlink");
  auto target = s.fs->ReadLink(NidOf(s, ino));
  if (!target) return ReplyError(req, t, target.error());
  fuse_reply_readlink(req, target->c_str());
}

void ReplyXattrData(fuse_req_t req, const std::string& data, size_t size) {
  if (size == 0) return (void)fuse_reply_xattr(req, data.size());
  if (size < data.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, data.data(), data.size());
}

void GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto& s = S(req);
  OpTimer t(s, "getxattr");
  auto value = s.fs->GetXattr(NidOf(s, ino), name);
  if (!value && value.error().code == ErrorCode::kNotFound) {
    return (void)fuse_reply_err(req, ENODATA);
  }
  if (!value) return ReplyError(req, t, value.error());
  ReplyXattrData(req, *value, size);
}

void ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto& s = S(req);
  OpTimer t(s, "listxattr");
  auto list = s.fs->ListXattrs(NidOf(s, ino));
  if (!list) return ReplyError(req, t, list.error());
  std::string names;
  for (const auto& x : *list) names.append(x.name).push_back('\0');
  ReplyXattrData(req, names, size);
}

void StatFs(fuse_req_t req, fuse_ino_t) {
  auto& s = S(req);
  FsStats fs = s.fs->StatFs();
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_blocks = fs.blocks;
  st.f_files = fs.files;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

void Access(fuse_req_t req, fuse_ino_t, int mask) {
  fuse_reply_err(req, (mask & W_OK) ? EROFS : 0);
}

}  // namespace

const struct fuse_lowlevel_ops* FuseOps() {
  static const struct fuse_lowlevel_ops ops = [] {
    struct fuse_lowlevel_ops o {};
    o.init = Init;
    o.lookup = Lookup;
    o.getattr = GetAttr;
    o.open = Open;
    o.read = Read;
    o.opendir = OpenDir;
    o.readdir = ReadDir;
    o.readdirplus = ReadDirPlus;
    o.readlink = ReadLink;
    o.getxattr = GetXattr;
    o.listxattr = ListXattr;
    o.statfs = StatFs;
    o.access = Access;
    return o;
  }();
  return &ops;
}

}  // namespace tessera::nydusd
