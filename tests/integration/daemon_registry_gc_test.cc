// Cache garbage collection by reference in a daemon serving several images from one cache
// directory: removing a mount with gc deletes only the files no other mount uses.
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "daemon_registry_fixture.h"

#include "tessera/common/io.h"
#include "tessera/nydusd_client/client.h"

namespace tessera::testing {
namespace {

using nydusd::client::ApiClient;
using nydusd::client::ApiClientOptions;
using nydusd::client::MountRequest;

// The cache directory's file names without their extension (a blob id, a bootstrap layer
// digest): bitmaps appear only with the first flush, so extensions are left out.
std::set<std::string> CacheStems(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    out.insert(e.path().stem().string());
  }
  return out;
}

TEST_F(DaemonRegistryTest, RemovingAMountCollectsOnlyUnsharedCacheFiles) {
  std::string a = Path("a"), b = Path("b");
  ASSERT_TRUE(MakeDir(a) && MakeDir(b));
  ASSERT_TRUE(WriteFile(a + "/file", std::vector<uint8_t>(200000, 'a')));
  ASSERT_TRUE(WriteFile(b + "/file", std::vector<uint8_t>(200000, 'b')));
  ASSERT_NO_FATAL_FAILURE(StartRegistry());
  const std::string ref_a = PushImage(a, "tessera/gc-a", "v1");
  const std::string ref_b = PushImage(b, "tessera/gc-b", "v1");
  ASSERT_NO_FATAL_FAILURE(StartApiDaemon());
  ApiClient api(ApiClientOptions{.socket_path = sock_});
  ASSERT_TRUE(api.WaitUntilRunning(std::chrono::seconds(10)));
  // Image a twice (a1, a2), image b once, all in the daemon's one cache directory.
  const std::vector<std::pair<std::string, std::string>> mounts = {
      {Path("a1"), ref_a}, {Path("a2"), ref_a}, {Path("b1"), ref_b}};
  std::set<std::string> stems_a;
  for (const auto& [mp, ref] : mounts) {
    ASSERT_TRUE(MakeDir(mp));
    MountRequest req;
    req.mountpoint = mp;
    req.image = ref;
    req.registry = R"({"scheme": "http"})";
    auto m = api.Mount(req);
    ASSERT_TRUE(m) << m.error().ToString();
    auto bytes = ReadFile(mp + "/file");
    ASSERT_TRUE(bytes) << bytes.error().ToString();
    if (ref == ref_a) stems_a = CacheStems(cache_);
  }
  const std::set<std::string> all = CacheStems(cache_);
  // Per image: its blob (.raw, .bitmap) and its bootstrap (.layer, .boot).
  ASSERT_EQ(stems_a.size(), 2u) << ::testing::PrintToString(stems_a);
  ASSERT_EQ(all.size(), 4u) << ::testing::PrintToString(all);

  ASSERT_TRUE(api.Unmount(Path("a1"), /*collect_cache=*/true));
  EXPECT_EQ(CacheStems(cache_), all) << "a2 still uses image a's files";
  ASSERT_TRUE(api.Unmount(Path("a2"), /*collect_cache=*/true));
  const std::set<std::string> left = CacheStems(cache_);
  EXPECT_EQ(left.size(), 2u) << ::testing::PrintToString(left);
  for (const std::string& stem : stems_a) EXPECT_EQ(left.count(stem), 0u) << stem;
  auto b_bytes = ReadFile(Path("b1") + "/file");  // b is untouched and still served
  ASSERT_TRUE(b_bytes);
  EXPECT_EQ(*b_bytes, std::vector<uint8_t>(200000, 'b'));
  ASSERT_TRUE(api.Unmount(Path("b1")));  // without gc: the cache stays for a later mount
  EXPECT_EQ(CacheStems(cache_), left);
  StopDaemon();
}

}  // namespace
}  // namespace tessera::testing
