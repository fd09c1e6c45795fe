#include "support/image_tools.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "tessera/common/io.h"

namespace tessera::testing {
namespace {

Result<ToolRun> Run(std::vector<std::string> argv) {
  ToolRun run;
  run.argv = std::move(argv);
  TRY(run.result, RunCapture(run.argv));
  return run;
}

}  // namespace

Result<ToolRun> TesseraMkfs(const std::string& source, const std::string& image,
                            int64_t build_time) {
  return Run({BinPath("tessera-image"), "mkfs", "-T", std::to_string(build_time), "--uuid",
              kFixedUuid, source, image});
}

Result<ToolRun> TesseraDump(const std::string& image, const std::string& path,
                            const std::vector<std::string>& devices) {
  std::vector<std::string> argv = {BinPath("tessera-image"), "dump"};
  for (const auto& dev : devices) {
    argv.push_back("--device");
    argv.push_back(dev);
  }
  argv.push_back(image);
  if (!path.empty()) argv.push_back(path);
  return Run(std::move(argv));
}

Result<ToolRun> FsckErofs(const std::string& image, const std::vector<std::string>& devices) {
  std::vector<std::string> argv = {"fsck.erofs"};
  for (const auto& dev : devices) argv.push_back("--device=" + dev);
  argv.push_back(image);
  return Run(std::move(argv));
}

Result<ToolRun> MkfsErofs(const std::string& source, const std::string& image,
                          const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"mkfs.erofs", "--quiet", std::string("-U") + kFixedUuid};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(image);
  argv.push_back(source);
  return Run(std::move(argv));
}

Result<bool> SameFileBytes(const std::string& a, const std::string& b, uint64_t* where) {
  TRY(UniqueFd fa, UniqueFd::Open(a, O_RDONLY));
  TRY(UniqueFd fb, UniqueFd::Open(b, O_RDONLY));
  std::vector<uint8_t> ba(1 << 20);
  std::vector<uint8_t> bb(1 << 20);
  for (uint64_t off = 0;; off += ba.size()) {
    ssize_t na = ::pread(fa.get(), ba.data(), ba.size(), static_cast<off_t>(off));
    ssize_t nb = ::pread(fb.get(), bb.data(), bb.size(), static_cast<off_t>(off));
    if (na < 0 || nb < 0) return ErrnoError(errno, "pread " + (na < 0 ? a : b));
    size_t common = static_cast<size_t>(std::min(na, nb));
    auto mismatch = std::mismatch(ba.begin(), ba.begin() + common, bb.begin());
    if (mismatch.first != ba.begin() + common || na != nb) {
      if (where != nullptr) *where = off + (mismatch.first - ba.begin());
      return false;
    }
    if (na == 0) return true;
  }
}

}  // namespace tessera::testing
