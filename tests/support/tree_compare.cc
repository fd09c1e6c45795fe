#include "support/tree_compare.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

namespace tessera::testing {
namespace {

constexpr size_t kReadPiece = 64 * 1024;

std::string TypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "char device";
    case S_IFBLK:
      return "block device";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown type";
  }
}

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0%o", mode);
  return buf;
}

std::string Time(int64_t sec, uint32_t nsec) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%" PRId64 ".%09u", sec, nsec);
  return buf;
}

std::string Dev(uint64_t rdev) {
  return std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
}

// A short printable rendering of bytes: printable ASCII kept, others as \xNN.
std::string Shown(const std::string& bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < 48; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    }
  }
  out += bytes.size() > 48 ? "\"... (" + std::to_string(bytes.size()) + " bytes)" : "\"";
  return out;
}

std::string Display(const std::string& path) { return "/" + path; }

class Comparer {
 public:
  Comparer(const TreeView& expected, const TreeView& actual, const CompareOptions& options)
      : e_(expected), a_(actual), opt_(options) {}

  std::vector<std::string> Run() {
    CompareEntry("");
    if (omitted_ > 0) diffs_.push_back("... and " + std::to_string(omitted_) + " more");
    return std::move(diffs_);
  }

 private:
  void Add(const std::string& path, const std::string& what) {
    if (diffs_.size() < opt_.max_differences) {
      diffs_.push_back(Display(path) + ": " + what);
    } else {
      ++omitted_;
    }
  }

  bool Skipped(const std::string& path) const {
    return std::find(opt_.skip_paths.begin(), opt_.skip_paths.end(), path) != opt_.skip_paths.end();
  }

  void CompareEntry(const std::string& path) {
    auto e = e_.Stat(path);
    auto a = a_.Stat(path);
    if (!e || !a) {
      if (!e) Add(path, "expected side: " + e.error().ToString());
      if (!a) Add(path, "actual side: " + a.error().ToString());
      return;
    }
    if ((e->mode & S_IFMT) != (a->mode & S_IFMT)) {
      Add(path, "type expected " + TypeName(e->mode) + ", actual " + TypeName(a->mode));
      return;
    }
    // A further name of an inode already compared (same link group on both sides) adds
    // nothing but the link check.
    if (opt_.hard_links && !S_ISDIR(e->mode) && !CompareLinkGroup(path, *e, *a)) return;
    if (!path.empty() || opt_.root_attrs) {
      CompareAttrs(path, *e, *a);
      if (opt_.xattrs) CompareXattrs(path);
    }
    if (S_ISREG(e->mode)) CompareData(path);
    if (S_ISLNK(e->mode)) CompareSymlink(path);
    if (S_ISDIR(e->mode)) CompareDir(path);
  }

  template <typename T>
  void Field(const std::string& path, const char* name, const T& e, const T& a,
             const std::string& e_text, const std::string& a_text) {
    if (e != a) Add(path, std::string(name) + " expected " + e_text + ", actual " + a_text);
  }

  void CompareAttrs(const std::string& path, const EntryAttrs& e, const EntryAttrs& a) {
    uint32_t mask = S_IFMT | opt_.mode_mask;
    Field(path, "mode", e.mode & mask, a.mode & mask, Octal(e.mode), Octal(a.mode));
    Field(path, "uid", e.uid, a.uid, std::to_string(e.uid), std::to_string(a.uid));
    Field(path, "gid", e.gid, a.gid, std::to_string(e.gid), std::to_string(a.gid));
    bool dir = S_ISDIR(e.mode);
    if (!dir) Field(path, "size", e.size, a.size, std::to_string(e.size), std::to_string(a.size));
    if (opt_.mtime) {
      uint32_t e_nsec = opt_.mtime_nsec ? e.mtime_nsec : 0;
      uint32_t a_nsec = opt_.mtime_nsec ? a.mtime_nsec : 0;
      Field(path, "mtime", std::make_pair(e.mtime, e_nsec), std::make_pair(a.mtime, a_nsec),
            Time(e.mtime, e.mtime_nsec), Time(a.mtime, a.mtime_nsec));
    }
    if ((dir && opt_.dir_nlink) || (!dir && opt_.hard_links)) {
      Field(path, "nlink", e.nlink, a.nlink, std::to_string(e.nlink), std::to_string(a.nlink));
    }
    if (S_ISCHR(e.mode) || S_ISBLK(e.mode)) {
      Field(path, "rdev", e.rdev, a.rdev, Dev(e.rdev), Dev(a.rdev));
    }
    if (opt_.same_ino) {
      Field(path, "inode number", e.ino, a.ino, std::to_string(e.ino), std::to_string(a.ino));
    }
  }

  std::vector<erofs::Xattr> Filtered(std::vector<erofs::Xattr> xattrs) const {
    std::erase_if(xattrs, [this](const erofs::Xattr& x) {
      return std::any_of(opt_.ignore_xattr_prefixes.begin(), opt_.ignore_xattr_prefixes.end(),
                         [&x](const std::string& p) { return x.name.rfind(p, 0) == 0; });
    });
    return xattrs;
  }

  void CompareXattrs(const std::string& path) {
    auto e = e_.Xattrs(path);
    auto a = a_.Xattrs(path);
    if (!e || !a) {
      if (!e) Add(path, "expected xattrs: " + e.error().ToString());
      if (!a) Add(path, "actual xattrs: " + a.error().ToString());
      return;
    }
    std::map<std::string, std::string> expected;
    std::map<std::string, std::string> actual;
    for (auto& x : Filtered(std::move(*e))) expected[x.name] = std::move(x.value);
    for (auto& x : Filtered(std::move(*a))) actual[x.name] = std::move(x.value);
    for (const auto& [name, value] : expected) {
      auto it = actual.find(name);
      if (it == actual.end()) {
        Add(path, "xattr " + name + " missing in actual");
      } else if (it->second != value) {
        Add(path, "xattr " + name + " expected " + Shown(value) + ", actual " + Shown(it->second));
      }
    }
    for (const auto& [name, value] : actual) {
      if (!expected.contains(name)) Add(path, "unexpected xattr " + name + "=" + Shown(value));
    }
  }

  // The first path (in walk order) seen for each inode stands for its link group; a path must
  // have the same representative on both sides. Returns whether the rest of the entry still
  // needs comparing (false for a further name of an inode that matched so far).
  bool CompareLinkGroup(const std::string& path, const EntryAttrs& e, const EntryAttrs& a) {
    const std::string& e_rep = e_groups_.try_emplace({e.dev, e.ino}, path).first->second;
    const std::string& a_rep = a_groups_.try_emplace({a.dev, a.ino}, path).first->second;
    if (e_rep != a_rep) {
      Add(path, "hard links differ: expected the inode of " + Display(e_rep) + ", actual that of " +
                    Display(a_rep));
      return true;
    }
    return e_rep == path;
  }

  void CompareData(const std::string& path) {
    auto e = e_.Open(path);
    auto a = a_.Open(path);
    if (!e || !a) {
      if (!e) Add(path, "expected open: " + e.error().ToString());
      if (!a) Add(path, "actual open: " + a.error().ToString());
      return;
    }
    std::vector<uint8_t> e_buf(kReadPiece);
    std::vector<uint8_t> a_buf(kReadPiece);
    for (uint64_t off = 0;; off += kReadPiece) {
      auto e_n = (*e)->ReadAt(off, e_buf);
      auto a_n = (*a)->ReadAt(off, a_buf);
      if (!e_n || !a_n) {
        Add(path,
            "read at " + std::to_string(off) + ": " +
                (!e_n ? "expected " + e_n.error().ToString() : "actual " + a_n.error().ToString()));
        return;
      }
      size_t common = std::min(*e_n, *a_n);
      auto mismatch = std::mismatch(e_buf.begin(), e_buf.begin() + common, a_buf.begin());
      if (mismatch.first != e_buf.begin() + common) {
        size_t at = mismatch.first - e_buf.begin();
        char what[96];
        std::snprintf(what, sizeof(what),
                      "content differs at byte %" PRIu64 " (expected 0x%02x, actual 0x%02x)",
                      off + at, *mismatch.first, *mismatch.second);
        return Add(path, what);
      }
      if (*e_n != *a_n) {
        return Add(path, "content length differs: expected " + std::to_string(off + *e_n) +
                             " bytes, actual " + std::to_string(off + *a_n));
      }
      if (*e_n < kReadPiece) return;
    }
  }

  void CompareSymlink(const std::string& path) {
    auto e = e_.ReadLink(path);
    auto a = a_.ReadLink(path);
    if (!e || !a) {
      if (!e) Add(path, "expected readlink: " + e.error().ToString());
      if (!a) Add(path, "actual readlink: " + a.error().ToString());
      return;
    }
    if (*e != *a) Add(path, "symlink target expected " + Shown(*e) + ", actual " + Shown(*a));
  }

  void CompareDir(const std::string& path) {
    auto e = e_.List(path);
    auto a = a_.List(path);
    if (!e || !a) {
      if (!e) Add(path, "expected list: " + e.error().ToString());
      if (!a) Add(path, "actual list: " + a.error().ToString());
      return;
    }
    size_t i = 0;
    size_t j = 0;
    while (i < e->size() || j < a->size()) {
      bool take_e = j == a->size() || (i < e->size() && (*e)[i] < (*a)[j]);
      bool take_a = i == e->size() || (j < a->size() && (*a)[j] < (*e)[i]);
      const std::string& name = take_e ? (*e)[i] : (*a)[j];
      std::string child = JoinViewPath(path, name);
      if (Skipped(child)) {
        // Ignored on both sides.
      } else if (take_e) {
        Add(child, "missing in actual");
      } else if (take_a) {
        Add(child, "unexpected in actual");
      } else {
        CompareEntry(child);
      }
      i += take_a ? 0 : 1;
      j += take_e ? 0 : 1;
    }
  }

  const TreeView& e_;
  const TreeView& a_;
  const CompareOptions& opt_;
  std::vector<std::string> diffs_;
  size_t omitted_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, std::string> e_groups_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> a_groups_;
};

}  // namespace

Result<std::vector<std::string>> CompareViews(const TreeView& expected, const TreeView& actual,
                                              const CompareOptions& options) {
  for (const TreeView* view : {&expected, &actual}) {
    TRY(EntryAttrs root, view->Stat(""));
    if (!S_ISDIR(root.mode)) {
      return MakeError(ErrorCode::kInvalidArgument, view->Name() + ": root is not a directory");
    }
  }
  return Comparer(expected, actual, options).Run();
}

Result<std::vector<std::string>> CompareTrees(const std::string& expected,
                                              const std::string& actual,
                                              const CompareOptions& options) {
  auto e = MakePosixView(expected);
  auto a = MakePosixView(actual);
  return CompareViews(*e, *a, options);
}

}  // namespace tessera::testing
