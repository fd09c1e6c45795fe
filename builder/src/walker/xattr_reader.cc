#include "walker/xattr_reader.h"

#include <sys/xattr.h>

#include <cerrno>
#include <string_view>

namespace tessera::builder::internal {
namespace {

constexpr int kMaxRetries = 8;  // the list or a value may change size between two calls

Result<std::string> ListNames(const std::string& path) {
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    const ssize_t want = ::llistxattr(path.c_str(), nullptr, 0);
    if (want < 0) {
      if (errno == ENOTSUP) return std::string();
      return ErrnoError(errno, "llistxattr " + path);
    }
    std::string names(static_cast<size_t>(want), '\0');
    const ssize_t got = ::llistxattr(path.c_str(), names.data(), names.size());
    if (got >= 0) {
      names.resize(static_cast<size_t>(got));
      return names;
    }
    if (errno != ERANGE) return ErrnoError(errno, "llistxattr " + path);
  }
  return MakeError(ErrorCode::kIo, "llistxattr " + path + ": list keeps changing");
}

// nullopt-like empty result with found=false when the attribute vanished meanwhile.
Result<bool> GetValue(const std::string& path, const std::string& name, std::string* value) {
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    const ssize_t want = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (want < 0) {
      if (errno == ENODATA) return false;
      return ErrnoError(errno, "lgetxattr " + path + " " + name);
    }
    value->assign(static_cast<size_t>(want), '\0');
    const ssize_t got = ::lgetxattr(path.c_str(), name.c_str(), value->data(), value->size());
    if (got >= 0) {
      value->resize(static_cast<size_t>(got));
      return true;
    }
    if (errno == ENODATA) return false;
    if (errno != ERANGE) return ErrnoError(errno, "lgetxattr " + path + " " + name);
  }
  return MakeError(ErrorCode::kIo, "lgetxattr " + path + " " + name + ": value keeps changing");
}

}  // namespace

Result<std::vector<erofs::Xattr>> ReadXattrs(const std::string& path) {
  TRY(std::string names, ListNames(path));
  std::vector<erofs::Xattr> out;
  std::string_view rest = names;
  while (!rest.empty()) {
    const size_t nul = rest.find('\0');
    const std::string_view name = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
    if (name.empty()) continue;
    erofs::Xattr x;
    x.name = std::string(name);
    TRY(bool found, GetValue(path, x.name, &x.value));
    if (found) out.push_back(std::move(x));
  }
  return out;
}

}  // namespace tessera::builder::internal
