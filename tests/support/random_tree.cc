#include "support/random_tree.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include "support/data_gen.h"
#include "support/tree_gen_internal.h"

namespace tessera::testing {
namespace {

// splitmix64: deterministic across compilers and standard libraries, unlike std::
// distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Percent(int p) { return Below(100) < static_cast<uint64_t>(p); }

 private:
  uint64_t state_;
};

class RandomTree {
 public:
  RandomTree(const std::string& dir, const RandomTreeOptions& options)
      : b_(dir), rng_(options.seed), options_(options) {}

  Status Generate() {
    dirs_.push_back("");
    for (size_t i = 0; i < options_.entries; ++i) RETURN_IF_ERROR(AddEntry());
    return b_.ApplyTimes("");
  }

 private:
  std::string Name() {
    // Short names mostly; sometimes long, sometimes the maximum.
    size_t len = rng_.Percent(80)   ? 1 + rng_.Below(24)
                 : rng_.Percent(50) ? 1 + rng_.Below(options_.max_name)
                                    : options_.max_name;
    std::string name;
    for (size_t i = 0; i < len; ++i) {
      char c = rng_.Percent(85) ? static_cast<char>('a' + rng_.Below(26))
                                : static_cast<char>(1 + rng_.Below(255));
      name += c == '/' ? '_' : c;
    }
    return name == "." || name == ".." ? name + "x" : name;
  }

  // A fresh path in a random directory (depth at most 12).
  std::string FreshPath() {
    for (;;) {
      std::string parent = dirs_[rng_.Below(dirs_.size())];
      std::string path = parent.empty() ? Name() : parent + "/" + Name();
      if (std::count(path.begin(), path.end(), '/') < 12 && used_.insert(path).second) {
        return path;
      }
    }
  }

  Status AddEntry() {
    std::string path = FreshPath();
    uint64_t kind = rng_.Below(100);
    if (kind < 55) return AddFile(path);
    if (kind < 70) {
      std::string target(1 + rng_.Below(rng_.Percent(80) ? 64 : 4095), 't');
      for (char& c : target) c = static_cast<char>('a' + rng_.Below(26));
      RETURN_IF_ERROR(b_.Symlink(target, path));
      return Decorate(path, /*user_xattrs=*/false, /*chmod=*/false);
    }
    if (kind < 82) {
      RETURN_IF_ERROR(b_.Mkdir(path));
      dirs_.push_back(path);
      return Decorate(path, /*user_xattrs=*/true, /*chmod=*/true);
    }
    if (kind < 92 && !files_.empty()) return b_.Link(files_[rng_.Below(files_.size())], path);
    mode_t type = rng_.Percent(50) ? S_IFIFO : (rng_.Percent(50) ? S_IFCHR : S_IFBLK);
    dev_t dev = type == S_IFIFO ? 0 : makedev(rng_.Below(4096), rng_.Below(1 << 20));
    RETURN_IF_ERROR(b_.Node(path, type, dev));
    files_.push_back(path);
    return Decorate(path, /*user_xattrs=*/false, /*chmod=*/true);
  }

  Status AddFile(const std::string& path) {
    uint64_t size = rng_.Percent(70)   ? rng_.Below(4097)
                    : rng_.Percent(80) ? rng_.Below(3 * 4096 + 1)
                                       : rng_.Below(300000);
    ContentKind kind = rng_.Percent(70) ? ContentKind::kRandom : ContentKind::kText;
    RETURN_IF_ERROR(b_.File(path, size, kind));
    files_.push_back(path);
    return Decorate(path, /*user_xattrs=*/true, /*chmod=*/true);
  }

  // Owner, permissions (after chown, which clears setuid/setgid), xattrs (user.* only where
  // Linux allows it) and an mtime.
  Status Decorate(const std::string& path, bool user_xattrs_allowed, bool chmod) {
    static constexpr uint32_t kIds[] = {0, 1, 1000, 65535, 65536, 70000, 2147483648u};
    RETURN_IF_ERROR(b_.Own(path, kIds[rng_.Below(7)], kIds[rng_.Below(7)]));
    if (chmod) RETURN_IF_ERROR(b_.Chmod(path, rng_.Below(010000)));
    if (rng_.Percent(35)) {
      // Stay under ext4's one-block limit for all xattrs of an inode.
      size_t budget = 3000;
      for (uint64_t n = 1 + rng_.Below(5); n > 0; --n) {
        static constexpr const char* kPrefixes[] = {"user.", "trusted.", "security."};
        std::string name =
            kPrefixes[rng_.Below(user_xattrs_allowed ? 3 : 2) + (user_xattrs_allowed ? 0 : 1)];
        name += std::to_string(n) + std::string(rng_.Below(40), 'x');
        std::string value(rng_.Below(rng_.Percent(70) ? 32 : 1200), 'v');
        for (char& c : value) c = static_cast<char>(rng_.Below(256));
        if (name.size() + value.size() + 32 > budget) break;
        budget -= name.size() + value.size() + 32;
        RETURN_IF_ERROR(b_.Xattr(path, name, value));
      }
    }
    int64_t sec = static_cast<int64_t>(rng_.Below(1ull << 33)) - (1ll << 31);
    b_.Time(path, rng_.Percent(30) ? internal::kBaseTime : sec,
            rng_.Percent(30) ? 0 : static_cast<long>(rng_.Below(1000000000)));
    return Ok();
  }

  internal::TreeBuilder b_;
  Rng rng_;
  RandomTreeOptions options_;
  std::vector<std::string> dirs_;
  std::vector<std::string> files_;  // non-directories that can take another hard link
  std::set<std::string> used_;
};

}  // namespace

Status GenerateRandomTree(const std::string& dir, const RandomTreeOptions& options) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir " + dir);
  }
  return RandomTree(dir, options).Generate();
}

}  // namespace tessera::testing
