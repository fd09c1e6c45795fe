// localfs backend: blobs are files <dir>/<hex id>.
#include <fcntl.h>

#include <mutex>
#include <unordered_map>

#include "tessera/common/io.h"
#include "tessera/storage/cache.h"

namespace tessera::storage {
namespace {

class LocalFsBackend final : public BlobBackend {
 public:
  explicit LocalFsBackend(std::string dir) : dir_(std::move(dir)) {}
  std::string Name() const override { return "localfs:" + dir_; }

  Status Read(const BlobInfo& blob, uint64_t offset, std::span<uint8_t> out) override {
    TRY(int fd, Fd(blob));
    if (offset > blob.compressed_size || out.size() > blob.compressed_size - offset) {
      return MakeError(ErrorCode::kOutOfRange, "blob " + blob.IdHex() + ": read past its end");
    }
    return PreadFull(fd, out, offset, dir_ + "/" + blob.IdHex());
  }

 private:
  Result<int> Fd(const BlobInfo& blob) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string hex = blob.IdHex();
    auto it = fds_.find(hex);
    if (it != fds_.end()) return it->second.get();
    std::string path = dir_ + "/" + hex;
    TRY(UniqueFd fd, UniqueFd::Open(path, O_RDONLY));
    int raw = fd.get();
    fds_.emplace(hex, std::move(fd));
    return raw;
  }

  std::string dir_;
  std::mutex mu_;  // guards fds_
  std::unordered_map<std::string, UniqueFd> fds_;
};

}  // namespace

std::unique_ptr<BlobBackend> MakeLocalFsBackend(std::string dir) {
  return std::make_unique<LocalFsBackend>(std::move(dir));
}

}  // namespace tessera::storage
