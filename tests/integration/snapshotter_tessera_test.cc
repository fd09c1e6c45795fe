// Tessera images through containerd 1.6 with tessera-snapshotter: `tesseractl pull` takes the
// layers as remote (nothing is downloaded), `ctr run` starts the image on tesserad's lazy mount
// and reads only a small part of the blobs; the original OCI image runs with plain layers on the
// same snapshotter; a killed tesserad (or snapshotter) is recovered; removing images leaves no
// daemon, mount or file behind. Registry on 127.0.0.1 with the cached minbase image.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/containerd_server.h"
#include "support/minbase_registry.h"
#include "support/registry_server.h"
#include "support/test_env.h"
#include "support/test_image.h"
#include <nlohmann/json.hpp>

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kScript[] = "cat /etc/os-release; ls /usr/bin | wc -l";

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

void WriteJson(const std::string& path, const nlohmann::json& j, std::string* digest,
               uint64_t* size) {
  const std::string text = j.dump();
  auto r = RunCapture({"sh", "-c", "printf %s \"$0\" | sha256sum", text});
  *digest = "sha256:" + (r ? r->output.substr(0, 64) : std::string());
  *size = text.size();
  std::ofstream(path + "/blobs/sha256/" + digest->substr(7)) << text;
}

// Copies the first `keep` layers of layout:tag into a new layout `out` tagged "latest" (blobs
// hard-linked). The minbase image's third layer replaces /usr/share/info by a file and still
// holds whiteouts below it, which containerd 1.6 cannot apply with any snapshotter (its own
// overlayfs fails the same way), so the plain-layer run uses the first two layers.
Status TruncateLayout(const std::string& layout, const std::string& tag, size_t keep,
                      const std::string& out) {
  std::error_code ec;
  fs::create_directories(out + "/blobs/sha256", ec);
  for (const auto& e : fs::directory_iterator(layout + "/blobs/sha256", ec)) {
    fs::create_hard_link(e.path(), out + "/blobs/sha256/" + e.path().filename().string(), ec);
  }
  nlohmann::json index = ReadJson(layout + "/index.json");
  std::string manifest_digest;
  for (const auto& m : index["manifests"]) {
    if (m["annotations"].value("org.opencontainers.image.ref.name", "") == tag) {
      manifest_digest = m["digest"];
    }
  }
  if (manifest_digest.empty()) return MakeError(ErrorCode::kNotFound, "tag " + tag);
  nlohmann::json manifest = ReadJson(layout + "/blobs/sha256/" + manifest_digest.substr(7));
  std::string config_digest = manifest["config"]["digest"];
  nlohmann::json config = ReadJson(layout + "/blobs/sha256/" + config_digest.substr(7));
  manifest["layers"].erase(manifest["layers"].begin() + keep, manifest["layers"].end());
  auto& diff_ids = config["rootfs"]["diff_ids"];
  diff_ids.erase(diff_ids.begin() + keep, diff_ids.end());
  config.erase("history");
  std::string digest;
  uint64_t size = 0;
  WriteJson(out, config, &digest, &size);
  manifest["config"]["digest"] = digest;
  manifest["config"]["size"] = size;
  WriteJson(out, manifest, &digest, &size);
  nlohmann::json new_index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
         {"digest", digest},
         {"size", size},
         {"annotations", {{"org.opencontainers.image.ref.name", "latest"}}}}}}};
  std::ofstream(out + "/index.json") << new_index.dump();
  std::ofstream(out + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  return Ok();
}

// Parameter: the snapshotter's daemon_mode.
class SnapshotterTesseraTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    for (const char* p : {"containerd", "ctr", "runc", "docker-registry", "skopeo", "curl"}) {
      if (MissingProgram(p)) return;  // SetUp skips
    }
    if (::geteuid() != 0) return;
    auto minbase = test::StartMinbaseRegistry();
    ASSERT_TRUE(minbase.has_value()) << minbase.error().ToString();
    image_ = new test::TestImage(minbase->image);
    registry_ = minbase->registry.release();
    auto work = TempDir::Create("tessera-oci2");
    ASSERT_TRUE(work.has_value());
    Status cut = TruncateLayout(image_->layout_dir, image_->tag, 2, work->path() + "/layout");
    ASSERT_TRUE(cut.has_value()) << cut.error().ToString();
    Status pushed = registry_->PushLayout(work->path() + "/layout", "latest", "minbase:oci2");
    ASSERT_TRUE(pushed.has_value()) << pushed.error().ToString();
    Status converted = test::ConvertImage(Oci2Ref(), Tessera2Ref());
    ASSERT_TRUE(converted.has_value()) << converted.error().ToString();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
    delete image_;
    image_ = nullptr;
  }
  static std::string OciRef() { return registry_->host() + "/minbase:oci"; }
  // The first two layers of the OCI image (see TruncateLayout).
  static std::string Oci2Ref() { return registry_->host() + "/minbase:oci2"; }
  static std::string Tessera2Ref() { return registry_->host() + "/minbase:tessera2"; }
  static std::string TesseraRef() { return registry_->host() + "/minbase:tessera"; }

  void SetUp() override {
    for (const char* p : {"containerd", "ctr", "runc", "docker-registry", "skopeo", "curl"}) {
      if (auto why = MissingProgram(p)) GTEST_SKIP() << *why;
    }
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd, FUSE, mounts)";
    ASSERT_NE(registry_, nullptr);
    auto config_dir = TempDir::Create("tessera-snap-config");
    ASSERT_TRUE(config_dir.has_value());
    config_dir_ = std::make_unique<TempDir>(std::move(*config_dir));
    const std::string config = config_dir_->path() + "/snapshotter.json";
    std::ofstream(config) << R"({"daemon_mode": ")" << GetParam() << R"("})";
    auto server = ContainerdServer::Start({"--config", config});
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
  }
  bool shared() const { return GetParam() == "shared"; }
  void TearDown() override {
    if (HasFailure() && server_) {
      std::cerr << "--- snapshotter log ---\n" << server_->SnapshotterLog();
      for (const std::string& d : DaemonDirs()) {
        std::ifstream log(d + "/tesserad.log");
        std::cerr << "--- " << d << "/tesserad.log ---\n" << log.rdbuf();
      }
    }
    server_.reset();
  }

  CommandResult Run(const std::vector<std::string>& argv) {
    auto r = RunCapture(argv);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(CommandResult{});
  }
  CommandResult Ctr(const std::vector<std::string>& args) {
    auto r = server_->Ctr(args);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(CommandResult{});
  }
  std::string Pull(const std::string& ref = TesseraRef(), bool cri_labels = false) {
    std::vector<std::string> argv = {BinPath("tesseractl"),
                                     "--address",
                                     server_->containerd_socket(),
                                     "pull",
                                     "--plain-http",
                                     "--snapshotter",
                                     "tessera",
                                     ref};
    if (cri_labels) argv.push_back("--cri-labels");
    CommandResult r = Run(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(argv, r);
    return r.output;
  }
  std::string RunContainer(const std::string& ref, const std::string& id) {
    std::vector<std::string> args = {"run", "--rm", "--snapshotter", "tessera"};
    for (const auto& f : server_->RunFlags()) args.push_back(f);
    args.insert(args.end(), {ref, id, "sh", "-c", kScript});
    CommandResult r = Ctr(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(args, r);
    return r.output;
  }
  // What the container must print: the image's os-release and its /usr/bin entry count.
  static std::string Expected() {
    std::ifstream in(image_->rootfs_dir + "/etc/os-release");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(image_->rootfs_dir + "/usr/bin")) {
      ++n;
    }
    return text + std::to_string(n) + "\n";
  }
  // Directories that hold a tesserad (its pid file): <root>/tesserad when shared, else
  // snapshots/<id> of each image.
  std::vector<std::string> DaemonDirs() {
    std::vector<std::string> out;
    std::error_code ec;
    if (shared()) {
      const std::string d = server_->snapshotter_root() + "/tesserad";
      if (fs::exists(d + "/tesserad.pid")) out.push_back(d);
      return out;
    }
    for (const auto& e : fs::directory_iterator(server_->snapshotter_root() + "/snapshots", ec)) {
      if (fs::exists(e.path() / "tesserad.pid")) out.push_back(e.path().string());
    }
    return out;
  }
  pid_t DaemonPid(const std::string& dir) {
    std::ifstream in(dir + "/tesserad.pid");
    long pid = -1;
    in >> pid;
    return static_cast<pid_t>(pid);
  }
  // tessera_backend_read_bytes_total of the daemon in `dir`.
  uint64_t BackendBytes(const std::string& dir) {
    std::vector<std::string> argv = {BinPath("tesseractl"), "--apisock", dir + "/api.sock",
                                     "metrics"};
    CommandResult r = Run(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(argv, r);
    const std::string name = "\ntessera_backend_read_bytes_total ";
    size_t at = r.output.find(name);
    if (at == std::string::npos) return UINT64_MAX;
    return std::stoull(r.output.substr(at + name.size()));
  }
  // Bytes of the Tessera image's blob layers, from its manifest in the registry.
  uint64_t BlobBytes() {
    CommandResult r =
        Run({"curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
             "http://" + registry_->host() + "/v2/minbase/manifests/tessera"});
    auto manifest = nlohmann::json::parse(r.output, nullptr, false);
    uint64_t total = 0;
    if (manifest.is_discarded()) return 0;
    for (const auto& layer : manifest["layers"]) {
      if (layer.value("mediaType", "") == "application/vnd.oci.image.layer.tessera.blob.v1") {
        total += layer.value("size", uint64_t{0});
      }
    }
    return total;
  }
  std::vector<pid_t> Daemons() {
    std::vector<pid_t> out;
    CommandResult r = Run({"pgrep", "-f", "tesserad.*" + server_->snapshotter_root() + "/"});
    std::istringstream in(r.output);
    for (long pid; in >> pid;) out.push_back(static_cast<pid_t>(pid));
    return out;
  }

  static test::TestImage* image_;
  static test::RegistryServer* registry_;
  std::unique_ptr<TempDir> config_dir_;
  std::unique_ptr<ContainerdServer> server_;
};

test::TestImage* SnapshotterTesseraTest::image_ = nullptr;
test::RegistryServer* SnapshotterTesseraTest::registry_ = nullptr;

TEST_P(SnapshotterTesseraTest, PullRunsTesseraImageLazily) {
  std::string out = Pull();
  EXPECT_NE(out.find("3 layers (3 prepared as remote)"), std::string::npos) << out;
  // Nothing of the layers reached containerd's content store.
  CommandResult content = Ctr({"content", "ls", "-q"});
  EXPECT_EQ(std::count(content.output.begin(), content.output.end(), '\n'), 2)
      << "manifest and config only expected:\n"
      << content.output;
  // A synchronous garbage collection keeps what the image references (content and snapshots).
  ASSERT_EQ(Ctr({"leases", "create", "--id", "gc-trigger"}).exit_code, 0);
  ASSERT_EQ(Ctr({"leases", "rm", "--sync", "gc-trigger"}).exit_code, 0);
  EXPECT_EQ(Ctr({"content", "ls", "-q"}).output, content.output);
  CommandResult snaps = Ctr({"snapshots", "--snapshotter", "tessera", "ls"});
  EXPECT_EQ(std::count(snaps.output.begin(), snaps.output.end(), '\n'), 4) << snaps.output;
  EXPECT_EQ(RunContainer(TesseraRef(), "c1"), Expected());

  std::vector<std::string> dirs = DaemonDirs();
  ASSERT_EQ(dirs.size(), 1u);
  const uint64_t fetched = BackendBytes(dirs[0]);
  const uint64_t blobs = BlobBytes();
  ASSERT_GT(blobs, 40u << 20);
  std::cout << "fetched " << fetched << " of " << blobs << " blob bytes\n";
  EXPECT_GT(fetched, 0u);
  EXPECT_LT(fetched, blobs / 10) << "a lazy start reads a small part of the image";

  // A second pull finds every layer in place.
  out = Pull();
  EXPECT_NE(out.find("(0 prepared as remote)"), std::string::npos) << out;
  EXPECT_EQ(RunContainer(TesseraRef(), "c2"), Expected());
  EXPECT_EQ(DaemonDirs().size(), 1u);
}

TEST_P(SnapshotterTesseraTest, OciImageRunsWithPlainLayers) {
  CommandResult r = Ctr({"images", "pull", "--plain-http", "--snapshotter", "tessera", Oci2Ref()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string out = RunContainer(Oci2Ref(), "oci1");
  EXPECT_TRUE(out.starts_with(Expected().substr(0, Expected().rfind('\n', Expected().size() - 2))))
      << out;
  EXPECT_TRUE(DaemonDirs().empty()) << "plain layers need no tesserad";
  // The whole OCI image fails the same way with containerd's own overlayfs snapshotter.
  for (const char* sn : {"tessera", "overlayfs"}) {
    r = Ctr({"images", "pull", "--plain-http", "--snapshotter", sn, OciRef()});
    EXPECT_NE(r.output.find("usr/share/info: not a directory"), std::string::npos) << r.output;
  }
}

TEST_P(SnapshotterTesseraTest, PlainCtrPullOfTesseraImageFails) {
  // containerd 1.6's pull passes no labels, so the snapshotter cannot take the blob layers as
  // remote; containerd itself refuses to unpack the unknown blob media type.
  CommandResult r =
      Ctr({"images", "pull", "--plain-http", "--snapshotter", "tessera", TesseraRef()});
  EXPECT_NE(r.output.find("application/vnd.oci.image.layer.tessera.blob.v1"), std::string::npos)
      << r.output;
  CommandResult ls = Ctr({"snapshots", "--snapshotter", "tessera", "ls"});
  EXPECT_EQ(ls.output.find("sha256:"), std::string::npos) << ls.output;
}

TEST_P(SnapshotterTesseraTest, KilledTesseradAndSnapshotterAreRecovered) {
  Pull();
  EXPECT_EQ(RunContainer(TesseraRef(), "k1"), Expected());
  std::vector<std::string> dirs = DaemonDirs();
  ASSERT_EQ(dirs.size(), 1u);
  const pid_t first = DaemonPid(dirs[0]);
  ASSERT_GT(first, 0);

  // A restarted snapshotter re-attaches to the running daemon.
  ASSERT_TRUE(server_->KillSnapshotter().has_value());
  ASSERT_TRUE(server_->StartSnapshotter().has_value());
  ASSERT_TRUE(server_->WaitForProxy().has_value());
  EXPECT_EQ(RunContainer(TesseraRef(), "k2"), Expected());
  EXPECT_EQ(DaemonPid(dirs[0]), first);

  // A crashed daemon is restarted and its mount recovered for the next container.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  EXPECT_EQ(RunContainer(TesseraRef(), "k3"), Expected());
  const pid_t second = DaemonPid(dirs[0]);
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(Daemons().size(), 1u);
}

TEST_P(SnapshotterTesseraTest, RunningContainerKeepsReadingAcrossTesseradCrash) {
  Pull();
  std::vector<std::string> run = {"run", "-d", "--snapshotter", "tessera"};
  for (const auto& f : server_->RunFlags()) run.push_back(f);
  run.insert(run.end(), {TesseraRef(), "live", "sh", "-c", "while true; do sleep 1; done"});
  ASSERT_EQ(Ctr(run).exit_code, 0);
  // Files the container has not read yet: after the crash they come from the new daemon.
  const std::string digest_of =
      "cd / && find usr/share/doc -type f -print0 | sort -z | xargs -0 cat | sha256sum";
  CommandResult want = Run(
      {"sh", "-c", "cd " + image_->rootfs_dir + " && " + digest_of.substr(digest_of.find("find"))});
  ASSERT_EQ(want.exit_code, 0);
  std::vector<std::string> dirs = DaemonDirs();
  ASSERT_EQ(dirs.size(), 1u);
  const pid_t first = DaemonPid(dirs[0]);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // The health check replaces the daemon, which takes the live mount over.
  const std::vector<std::string> exec = {
      "tasks", "exec", "--fifo-dir", server_->dir() + "/fifo", "--exec-id", "e1", "live",
      "sh",    "-c",   digest_of};
  CommandResult got = Ctr(exec);
  EXPECT_EQ(got.exit_code, 0) << Describe(exec, got);
  EXPECT_EQ(got.output, want.output);
  const pid_t second = DaemonPid(dirs[0]);
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(Daemons().size(), 1u);
  // The successor handed the same mount's connection back to the supervisor: it took it over.
  const std::string log = server_->SnapshotterLog();
  size_t held = 0;
  for (size_t at = log.find("holding FUSE connection"); at != std::string::npos;
       at = log.find("holding FUSE connection", at + 1)) {
    ++held;
  }
  EXPECT_EQ(held, 2u) << log;
  EXPECT_EQ(RunContainer(TesseraRef(), "after"), Expected());
  EXPECT_EQ(Ctr({"tasks", "kill", "-s", "SIGKILL", "live"}).exit_code, 0);
  for (int i = 0; i < 100 && Ctr({"tasks", "delete", "live"}).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Ctr({"containers", "rm", "live"}).exit_code, 0);
}

TEST_P(SnapshotterTesseraTest, RemovingImagesLeavesNothing) {
  Pull();
  EXPECT_EQ(RunContainer(TesseraRef(), "r1"), Expected());
  ASSERT_EQ(
      Ctr({"images", "pull", "--plain-http", "--snapshotter", "tessera", Oci2Ref()}).exit_code, 0);
  EXPECT_EQ(Daemons().size(), 1u);
  for (const std::string& ref : {TesseraRef(), Oci2Ref()}) {
    CommandResult r = Ctr({"images", "rm", "--sync", ref});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  CommandResult ls = Ctr({"snapshots", "--snapshotter", "tessera", "ls"});
  EXPECT_EQ(ls.output.find("sha256:"), std::string::npos) << ls.output;
  EXPECT_TRUE(Daemons().empty());
  EXPECT_TRUE(server_->MountsBelow().empty());
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(server_->snapshotter_root() + "/snapshots", ec));
  EXPECT_FALSE(fs::exists(server_->snapshotter_root() + "/tesserad"));
}

TEST_P(SnapshotterTesseraTest, CriLabelsAloneAreEnough) {
  // What containerd's CRI plugin sends (no Tessera markers): the snapshotter reads the manifest.
  std::string out = Pull(TesseraRef(), /*cri_labels=*/true);
  EXPECT_NE(out.find("3 layers (3 prepared as remote)"), std::string::npos) << out;
  EXPECT_EQ(RunContainer(TesseraRef(), "cri1"), Expected());
  EXPECT_EQ(Daemons().size(), 1u);
}

TEST_P(SnapshotterTesseraTest, TwoImagesShareOrSplitDaemons) {
  Pull();
  Pull(Tessera2Ref());
  const std::string os_release =
      Expected().substr(0, Expected().rfind('\n', Expected().size() - 2));
  EXPECT_EQ(RunContainer(TesseraRef(), "a1"), Expected());
  EXPECT_TRUE(RunContainer(Tessera2Ref(), "b1").starts_with(os_release));
  EXPECT_EQ(Daemons().size(), shared() ? 1u : 2u);
  CommandResult r = Ctr({"images", "rm", "--sync", TesseraRef()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Daemons().size(), 1u);
  EXPECT_TRUE(RunContainer(Tessera2Ref(), "b2").starts_with(os_release));
  r = Ctr({"images", "rm", "--sync", Tessera2Ref()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Daemons().empty());
  EXPECT_TRUE(server_->MountsBelow().empty());
}

INSTANTIATE_TEST_SUITE_P(DaemonMode, SnapshotterTesseraTest,
                         ::testing::Values(std::string("shared"), std::string("per-image")),
                         [](const auto& info) {
                           return info.param == "shared" ? std::string("Shared")
                                                         : std::string("PerImage");
                         });

}  // namespace
}  // namespace tessera::testing
