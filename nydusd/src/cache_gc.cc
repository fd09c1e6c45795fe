// Garbage collection of a removed mount's cache files by reference: what another served image
// still uses (a blob shared by two images, the same image mounted twice) stays.
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "daemon_impl.h"

namespace tessera::nydusd {
namespace {

std::string Sibling(const std::string& path, const std::string& from, const std::string& to) {
  if (path.size() < from.size() ||
      path.compare(path.size() - from.size(), from.size(), from) != 0) {
    return "";
  }
  return path.substr(0, path.size() - from.size()) + to;
}

}  // namespace

void Daemon::CollectCacheFiles(const std::vector<std::string>& files) {
  std::lock_guard<std::mutex> lock(mu_);  // no mount opens a cache file meanwhile
  std::set<std::string> in_use;
  for (const auto& [mp, m] : mounts_) {
    for (const auto& f : m->fs->cache().CacheFiles()) in_use.insert(f);
    in_use.insert(m->config.bootstrap);
  }
  uint64_t freed = 0;
  size_t removed = 0;
  for (const std::string& file : files) {
    if (file.empty() || in_use.count(file)) continue;
    for (const std::string& path :
         {file, Sibling(file, ".raw", ".bitmap"), Sibling(file, ".boot", ".layer")}) {
      struct stat st {};
      if (path.empty() || ::lstat(path.c_str(), &st) != 0) continue;
      if (::unlink(path.c_str()) == 0) {
        freed += static_cast<uint64_t>(st.st_blocks) * 512;
        ++removed;
      }
    }
  }
  if (removed > 0) {
    logger_.Info("cache: removed files no served image uses",
                 {{"files", std::to_string(removed)}, {"bytes", std::to_string(freed)}});
  }
  metrics_.SetCacheBytes(CacheDirBytes());
}

}  // namespace tessera::nydusd
