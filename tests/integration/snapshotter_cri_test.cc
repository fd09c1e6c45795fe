// Tessera images pulled the way Kubernetes pulls them: a CRI `runtime.v1.ImageService/PullImage`
// call to containerd 1.6's own CRI plugin (snapshotter "tessera", snapshot annotations on, the
// registry on 127.0.0.1 over plain http through hosts.toml). containerd's unpacker offers every
// layer to the snapshotter with `containerd.io/snapshot.ref` and the `containerd.io/snapshot/cri.*`
// labels only; tessera-snapshotter reads the manifest, takes all layers as remote, and containerd
// downloads none of them. `ctr -n k8s.io run` then starts the image on tesserad's lazy mount.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/containerd_server.h"
#include "support/cri/cri_client.h"
#include "support/minbase_registry.h"
#include "support/registry_server.h"
#include "support/test_env.h"
#include "support/test_image.h"
#include <nlohmann/json.hpp>

#include "tessera/oci/image.h"

namespace tessera::testing {
namespace {

constexpr const char* kPrograms[] = {"containerd",      "ctr",    "runc",
                                     "docker-registry", "skopeo", "curl"};
constexpr char kNamespace[] = "k8s.io";  // where the CRI plugin keeps images

size_t Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Snapshotter log lines that record a layer committed as remote, of `kind` (blob, bootstrap).
size_t RemoteLayers(const std::string& log, const std::string& kind) {
  std::istringstream in(log);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("committed remote Tessera layer") != std::string::npos &&
        line.find(" kind=" + kind) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

class SnapshotterCriTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* p : kPrograms) {
      if (MissingProgram(p)) return;  // SetUp skips
    }
    if (::geteuid() != 0) return;
    auto minbase = test::StartMinbaseRegistry();
    ASSERT_TRUE(minbase.has_value()) << minbase.error().ToString();
    image_ = new test::TestImage(minbase->image);
    registry_ = minbase->registry.release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
    delete image_;
    image_ = nullptr;
  }
  static std::string TesseraRef() { return registry_->host() + "/minbase:tessera"; }

  void SetUp() override {
    for (const char* p : kPrograms) {
      if (auto why = MissingProgram(p)) GTEST_SKIP() << *why;
    }
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd, FUSE, mounts)";
    ASSERT_NE(registry_, nullptr);
    CriOptions cri;
    cri.plain_http_registry = registry_->host();
    auto server = ContainerdServer::Start({}, cri);
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (HasFailure() && server_) {
      std::cerr << "--- containerd log ---\n" << server_->ContainerdLog();
      std::cerr << "--- snapshotter log ---\n" << server_->SnapshotterLog();
      std::ifstream log(DaemonDir() + "/tesserad.log");
      std::cerr << "--- tesserad log ---\n" << log.rdbuf();
    }
    server_.reset();
  }

  // ctr -n k8s.io args...
  CommandResult Ctr(std::vector<std::string> args) {
    args.insert(args.begin(), {"-n", kNamespace});
    auto r = server_->Ctr(args);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(CommandResult{});
  }
  // The shared tesserad the snapshotter starts for Tessera images (its default daemon_mode).
  std::string DaemonDir() const { return server_->snapshotter_root() + "/tesserad"; }
  // tessera_backend_read_bytes_total of the shared tesserad.
  uint64_t BackendBytes() {
    std::vector<std::string> argv = {BinPath("tesseractl"), "--apisock", DaemonDir() + "/api.sock",
                                     "metrics"};
    auto r = RunCapture(argv);
    EXPECT_TRUE(r.has_value() && r->exit_code == 0) << (r ? Describe(argv, *r) : "");
    const std::string name = "\ntessera_backend_read_bytes_total ";
    size_t at = r ? r->output.find(name) : std::string::npos;
    return at == std::string::npos ? UINT64_MAX : std::stoull(r->output.substr(at + name.size()));
  }
  // The Tessera image's manifest, from the registry.
  static nlohmann::json Manifest() {
    auto r = RunCapture({"curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                         "http://" + registry_->host() + "/v2/minbase/manifests/tessera"});
    return nlohmann::json::parse(r ? r->output : std::string(), nullptr, false);
  }
  static bool IsBlobLayer(const nlohmann::json& layer) {
    return layer.value("mediaType", "") == oci::tessera_image::kBlobMediaType;
  }
  static std::string OsRelease() {
    std::ifstream in(image_->rootfs_dir + "/etc/os-release");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static test::TestImage* image_;
  static test::RegistryServer* registry_;
  std::unique_ptr<ContainerdServer> server_;
};

test::TestImage* SnapshotterCriTest::image_ = nullptr;
test::RegistryServer* SnapshotterCriTest::registry_ = nullptr;

TEST_F(SnapshotterCriTest, CriPullTakesTesseraLayersAsRemoteAndRunsLazily) {
  const nlohmann::json manifest = Manifest();
  ASSERT_FALSE(manifest.is_discarded());
  ASSERT_EQ(manifest["layers"].size(), 3u);
  uint64_t blob_bytes = 0;
  for (const auto& layer : manifest["layers"]) {
    if (IsBlobLayer(layer)) blob_bytes += layer.value("size", uint64_t{0});
  }
  ASSERT_GT(blob_bytes, 40u << 20);
  const uint64_t served_before = registry_->BlobBytesServed();

  auto id = CriPullImage(server_->containerd_socket(), TesseraRef());
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(*id, manifest["config"].value("digest", ""));

  // No layer was downloaded: the registry served no layer blob, containerd's content store holds
  // the manifest and the config only, and the snapshotter committed every layer as remote.
  for (const auto& layer : manifest["layers"]) {
    const std::string digest = layer.value("digest", "");
    EXPECT_EQ(registry_->CountRequests("GET /v2/minbase/blobs/" + digest), 0u) << digest;
  }
  const uint64_t pull_bytes = registry_->BlobBytesServed() - served_before;
  EXPECT_EQ(pull_bytes, manifest["config"].value("size", uint64_t{0})) << "the config only";
  CommandResult content = Ctr({"content", "ls", "-q"});
  EXPECT_EQ(Lines(content.output), 2u) << "manifest and config only expected:\n" << content.output;
  const std::string log = server_->SnapshotterLog();
  EXPECT_EQ(RemoteLayers(log, "blob"), 2u) << log;
  EXPECT_EQ(RemoteLayers(log, "bootstrap"), 1u) << log;
  CommandResult snaps = Ctr({"snapshots", "--snapshotter", "tessera", "ls"});
  EXPECT_EQ(Lines(snaps.output), 4u) << snaps.output;  // header and 3 committed layers
  EXPECT_EQ(Occurrences(snaps.output, "Committed"), 3u) << snaps.output;

  // A second pull finds every layer in place.
  id = CriPullImage(server_->containerd_socket(), TesseraRef());
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(Occurrences(server_->SnapshotterLog(), "committed remote Tessera layer"), 3u)
      << "nothing prepared again";

  std::vector<std::string> run = {"run", "--rm", "--snapshotter", "tessera"};
  for (const auto& f : server_->RunFlags()) run.push_back(f);
  run.insert(run.end(), {TesseraRef(), "cri-run", "sh", "-c", "cat /etc/os-release"});
  CommandResult r = Ctr(run);
  EXPECT_EQ(r.exit_code, 0) << Describe(run, r);
  EXPECT_EQ(r.output, OsRelease());

  const uint64_t fetched = BackendBytes();
  std::cout << "CRI pull: " << pull_bytes << " blob bytes from the registry; container start: "
            << "tesserad fetched " << fetched << " of " << blob_bytes << " blob bytes\n";
  EXPECT_GT(fetched, 0u);
  EXPECT_LT(fetched, blob_bytes / 10) << "a lazy start reads a small part of the image";
}

}  // namespace
}  // namespace tessera::testing
