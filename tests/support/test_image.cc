// MinbaseImage: a real Debian minbase image as an OCI layout with several layers, built once
// with debootstrap and umoci, cached outside the repository.
//
// The image is built in a temporary directory inside the cache and renamed into place, so a
// crash never leaves a half-built image under the final name; an exclusive flock on
// <cache>/.lock serializes test processes that build or look at the same cache.
#include "support/test_image.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/test_env.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::test {
namespace {

// Bump when the recipe below changes: a new name builds a new image.
constexpr char kImageName[] = "minbase-v1";
constexpr char kTag[] = "minbase";
// A rootfs an earlier session may have left (debootstrap --variant=minbase bookworm).
constexpr char kSharedRootfs[] = "/var/cache/tessera-rootfs/minbase";

std::string CacheDir() {
  const char* env = std::getenv("TESSERA_IMAGE_CACHE");
  return env != nullptr && *env != '\0' ? env : "/var/cache/tessera-images";
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status Run(const std::vector<std::string>& argv) {
  TRY(testing::CommandResult result, testing::RunCapture(argv));
  if (result.exit_code != 0) {
    return MakeError(ErrorCode::kUnavailable, testing::Describe(argv, result));
  }
  return Ok();
}

Status Shell(const std::string& script) { return Run({"sh", "-euc", script}); }

// The minbase rootfs: the shared copy if present, else one debootstrapped into the cache.
Result<std::string> Rootfs(const std::string& cache) {
  if (Exists(std::string(kSharedRootfs) + "/etc/os-release")) return std::string(kSharedRootfs);
  const std::string rootfs = cache + "/rootfs";
  if (Exists(rootfs + "/etc/os-release")) return rootfs;
  const std::string tmp = cache + "/rootfs.tmp";
  (void)RemoveTree(tmp);
  Status made = Run({"debootstrap", "--variant=minbase", "bookworm", tmp});
  if (!made) {
    (void)RemoveTree(tmp);
    return made.error().Wrap("debootstrap");
  }
  if (::rename(tmp.c_str(), rootfs.c_str()) != 0) return ErrnoError(errno, "rename " + tmp);
  return rootfs;
}

// Layer 1: the rootfs without docs, locales and apt's caches (kept out to stay small).
std::string Layer1Script(const std::string& rootfs, const std::string& dir) {
  return "cd '" + dir + "'\n" +
         "umoci init --layout layout\n"
         "umoci new --image layout:base\n"
         "umoci unpack --image layout:base bundle >/dev/null\n"
         "tar -C '" +
         rootfs +
         "' --xattrs --exclude=./var/lib/apt/lists --exclude=./var/cache/apt"
         " --exclude=./usr/share/doc --exclude=./usr/share/locale -cf - . |"
         " tar -C bundle/rootfs --xattrs --xattrs-include='*' -xpf -\n"
         "umoci repack --refresh-bundle --image layout:l1 bundle\n";
}

// Layer 2: adds docs and locales back, modifies files, adds data, a hard link, a symlink and
// an xattr, and changes a mode and an owner.
std::string Layer2Script(const std::string& rootfs, const std::string& dir) {
  return "cd '" + dir + "/bundle/rootfs'\n" + "cp -a '" + rootfs + "/usr/share/doc' '" + rootfs +
         "/usr/share/locale' usr/share/\n" +
         "echo 'tessera test image, layer 2' >> etc/motd\n"
         "echo tessera-test > etc/hostname\n"
         "mkdir -p opt/tessera\n"
         "head -c 3000000 /dev/urandom > opt/tessera/random.bin\n"
         "ln opt/tessera/random.bin opt/tessera/hardlink.bin\n"
         "ln -s ../../etc/motd opt/tessera/motd-link\n"
         "setfattr -n user.tessera -v layer2 opt/tessera/random.bin\n"
         "chmod 0600 etc/hostname\n"
         "chown 1000:1000 opt/tessera\n"
         "cd ../..\n"
         "umoci repack --refresh-bundle --image layout:l2 bundle\n";
}

// Layer 3: deletes files and directories (whiteouts), replaces a directory with a file and a
// file with a directory, and recreates a directory with new content.
std::string Layer3Script(const std::string& dir) {
  return "cd '" + dir + "/bundle/rootfs'\n" +
         "rm -rf usr/share/man usr/share/doc/apt etc/issue.net usr/bin/wall\n"
         "rm -rf usr/share/info && echo 'now a file' > usr/share/info\n"
         "rm -f etc/debian_version && mkdir etc/debian_version\n"
         "echo inside > etc/debian_version/inside\n"
         "rm -rf usr/share/doc/bash && mkdir usr/share/doc/bash\n"
         "echo 'replaced' > usr/share/doc/bash/README\n"
         "cd ../..\n"
         "umoci repack --refresh-bundle --image layout:l3 bundle\n";
}

// Keeps only the final tag, drops unreferenced blobs, unpacks the reference tree.
std::string FinishScript(const std::string& dir) {
  return "cd '" + dir + "'\n" + "umoci tag --image layout:l3 " + kTag + "\n" +
         "for t in base l1 l2 l3; do umoci rm --image layout:$t; done\n"
         "umoci gc --layout layout\n"
         "rm -rf bundle\n"
         "umoci unpack --image layout:" +
         kTag + " unpacked >/dev/null\n";
}

Status Build(const std::string& rootfs, const std::string& dir) {
  RETURN_IF_ERROR_CTX(Shell(Layer1Script(rootfs, dir)), "layer 1");
  RETURN_IF_ERROR_CTX(Shell(Layer2Script(rootfs, dir)), "layer 2");
  RETURN_IF_ERROR_CTX(Shell(Layer3Script(dir)), "layer 3");
  RETURN_IF_ERROR_CTX(Shell(FinishScript(dir)), "finish");
  return Ok();
}

TestImage ImageAt(const std::string& dir) {
  return TestImage{dir + "/layout", kTag, dir + "/unpacked/rootfs"};
}

// Holds an exclusive flock on a file until destroyed.
Result<UniqueFd> LockFile(const std::string& path) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_RDWR | O_CREAT, 0644));
  if (::flock(fd.get(), LOCK_EX) != 0) return ErrnoError(errno, "flock " + path);
  return fd;
}

}  // namespace

Result<TestImage> MinbaseImage() {
  const std::string cache = CacheDir();
  if (::mkdir(cache.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir " + cache);
  }
  TRY(UniqueFd lock, LockFile(cache + "/.lock"));
  const std::string final_dir = cache + "/" + kImageName;
  if (Exists(final_dir + "/ready")) return ImageAt(final_dir);
  for (const char* tool : {"umoci", "tar", "setfattr"}) {
    if (auto why = testing::MissingProgram(tool)) return MakeError(ErrorCode::kUnavailable, *why);
  }
  TRY(std::string rootfs, Rootfs(cache));
  std::string tmp = cache + "/.build-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return ErrnoError(errno, "mkdtemp " + tmp);
  Status built = Build(rootfs, tmp);
  if (built) built = Shell("touch '" + tmp + "/ready'");
  if (!built) {
    (void)RemoveTree(tmp);
    return built.error().Wrap("building the minbase test image in " + tmp);
  }
  (void)RemoveTree(final_dir);  // a stale directory without "ready"
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    Error error = ErrnoError(errno, "rename " + tmp + " to " + final_dir);
    (void)RemoveTree(tmp);
    return error;
  }
  return ImageAt(final_dir);
}

}  // namespace tessera::test
