#include "support/erofs_fixture.h"

#include <cstdlib>

#include "support/test_env.h"

namespace tessera::testing {

std::optional<std::string> MissingErofsFacilities() {
  if (auto why = MissingKernelErofs()) return why;
  for (const char* program : {"mkfs.erofs", "fsck.erofs"}) {
    if (auto why = MissingProgram(program)) return why;
  }
  return std::nullopt;
}

bool SkipsAreFailures() {
  const char* value = std::getenv("TESSERA_REQUIRE_ALL_TESTS");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

void ErofsKernelTest::SetUp() {
  if (auto why = MissingErofsFacilities()) TESSERA_SKIP_OR_FAIL(*why);
  for (const auto& program : RequiredPrograms()) {
    if (auto why = MissingProgram(program)) TESSERA_SKIP_OR_FAIL(*why);
  }
  auto tmp = TempDir::Create("tessera-itest");
  ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString();
  tmp_.emplace(std::move(*tmp));
}

void ErofsKernelTest::TearDown() {
  // Unmount before the temporary directory (holding the mount points) is removed.
  for (auto& mount : mounts_) {
    std::string path = mount.path();
    Status st = mount.Unmount();
    EXPECT_TRUE(st.has_value()) << st.error().ToString();
    EXPECT_FALSE(IsMounted(path)) << path << " is still mounted";
  }
  mounts_.clear();
  tmp_.reset();
}

const ScopedMount* ErofsKernelTest::Mount(const std::string& image, const std::string& name,
                                          const std::vector<std::string>& devices) {
  auto mount = ScopedMount::Erofs(image, Path(name), devices);
  EXPECT_TRUE(mount.has_value()) << "mount " << image << ": " << mount.error().ToString();
  if (!mount.has_value()) return nullptr;
  mounts_.push_back(std::move(*mount));
  return &mounts_.back();
}

}  // namespace tessera::testing
