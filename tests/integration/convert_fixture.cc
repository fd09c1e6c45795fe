#include "convert_fixture.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "tessera/common/process.h"

namespace tessera::testing {
namespace {

constexpr char kBlobType[] = "application/vnd.oci.image.layer.tessera.blob.v1";
constexpr char kBlobAnnotation[] = "io.tessera.image.blob";
constexpr char kBootstrapAnnotation[] = "io.tessera.image.bootstrap";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool HasAnnotation(const nlohmann::json& layer, const char* key) {
  return layer.contains("annotations") && layer["annotations"].value(key, "") == "true";
}

}  // namespace

void ConvertTest::SetUp() {
  BuilderTest::SetUp();
  if (IsSkipped()) return;
  for (const char* tool : {"umoci", "skopeo", "tar", "docker-registry"}) {
    if (auto why = MissingProgram(tool)) GTEST_SKIP() << *why;
  }
  auto image = test::MinbaseImage();
  ASSERT_TRUE(image) << image.error().ToString();
  image_ = *image;
}

std::string ConvertTest::Tool(const std::vector<std::string>& argv) {
  auto r = RunCapture(argv);
  EXPECT_TRUE(r) << r.error().ToString();
  if (!r) return "";
  EXPECT_EQ(r->exit_code, 0) << Describe(argv, *r);
  return r->output;
}

nlohmann::json ConvertTest::Convert(std::vector<std::string> args, int expect,
                                    std::string* output) {
  args.insert(args.begin(), {BinPath("tessera-image"), "convert", "--json"});
  auto r = RunCapture(args);
  EXPECT_TRUE(r) << r.error().ToString();
  if (!r) return nullptr;
  EXPECT_EQ(r->exit_code, expect) << Describe(args, *r);
  if (output != nullptr) *output = r->output;
  if (r->exit_code != 0) return nullptr;
  auto j = nlohmann::json::parse(r->output, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->output;
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string ConvertTest::BlobPath(const std::string& layout, const std::string& digest) {
  return layout + "/blobs/sha256/" + digest.substr(7);
}

nlohmann::json ConvertTest::LayoutJson(const std::string& layout, const std::string& digest) {
  auto j = nlohmann::json::parse(ReadFile(BlobPath(layout, digest)), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << digest;
  return j;
}

nlohmann::json ConvertTest::LayoutTag(const std::string& layout, const std::string& tag) {
  auto index = nlohmann::json::parse(ReadFile(layout + "/index.json"), nullptr, false);
  if (index.is_discarded() || !index.contains("manifests")) return nullptr;
  for (const auto& entry : index["manifests"]) {
    if (entry.contains("annotations") &&
        entry["annotations"].value("org.opencontainers.image.ref.name", "") == tag) {
      return entry;
    }
  }
  return nullptr;
}

void ConvertTest::ExpectConsistent(const nlohmann::json& manifest, const nlohmann::json& config,
                                   const std::string& layout) {
  const auto& layers = manifest["layers"];
  const auto& diff_ids = config["rootfs"]["diff_ids"];
  ASSERT_GE(layers.size(), 1u);
  ASSERT_EQ(layers.size(), diff_ids.size()) << manifest.dump() << "\n" << config.dump();
  EXPECT_EQ(manifest["annotations"].value("io.tessera.image.version", ""), "1");
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    EXPECT_EQ(layers[i]["mediaType"], kBlobType) << i;
    EXPECT_TRUE(HasAnnotation(layers[i], kBlobAnnotation)) << i;
    EXPECT_EQ(diff_ids[i], layers[i]["digest"]) << i;
  }
  const auto& bootstrap = layers.back();
  EXPECT_TRUE(HasAnnotation(bootstrap, kBootstrapAnnotation));
  EXPECT_EQ(bootstrap["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
  if (layout.empty()) return;
  // The bootstrap layer's diff_id is the digest of its uncompressed tar.
  std::string tar =
      Tool({"sh", "-c",
            "gzip -dc '" + BlobPath(layout, bootstrap["digest"]) + "' | sha256sum | cut -c1-64"});
  EXPECT_EQ("sha256:" + tar.substr(0, 64), diff_ids.back());
  for (const auto& layer : layers) {
    std::string path = BlobPath(layout, layer["digest"]);
    EXPECT_EQ(ReadFile(path).size(), layer["size"].get<uint64_t>()) << path;
  }
  EXPECT_EQ(ReadFile(BlobPath(layout, manifest["config"]["digest"])).size(),
            manifest["config"]["size"].get<uint64_t>());
}

void ConvertTest::ExpectMountsAs(const std::string& layout, const nlohmann::json& manifest,
                                 const std::string& reference) {
  std::string dir = Path("boot" + std::to_string(counter_++));
  ASSERT_TRUE(MakeDir(dir));
  Tool({"tar", "-xzf", BlobPath(layout, manifest["layers"].back()["digest"]), "-C", dir});
  std::string bootstrap = dir + "/tessera/bootstrap";
  blobs_ = layout + "/blobs/sha256";
  std::vector<std::string> devices = Export(bootstrap);
  ASSERT_EQ(devices.size() + 1, manifest["layers"].size());
  auto mount = Mount(bootstrap, devices);
  ASSERT_TRUE(mount) << mount.error().ToString();
  ExpectSameTree(reference, mount->path(), TreeOptions());
}

CompareOptions ConvertTest::TreeOptions() {
  // Everything, the root's own attributes included: layers that do not declare "./" or a
  // parent directory keep the lower layer's attributes, as umoci's unpack does.
  return CompareOptions{};
}

void ConvertTest::ExpectContainerdFetches(const std::string& ref) {
  for (const char* tool : {"containerd", "ctr"}) {
    if (auto why = MissingProgram(tool)) GTEST_SKIP() << *why;
  }
  const std::string dir = Path("containerd");
  ASSERT_TRUE(MakeDir(dir));
  const std::string socket = dir + "/containerd.sock";
  std::ofstream(dir + "/config.toml")
      << "version = 2\nroot = \"" << dir << "/root\"\nstate = \"" << dir << "/state\"\n"
      << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \"" << socket
      << "\"\n[ttrpc]\n  address = \"" << dir << "/ttrpc.sock\"\n";
  ChildProcess::Options options;
  options.argv = {"containerd", "--config", dir + "/config.toml"};
  options.stdout_path = options.stderr_path = dir + "/containerd.log";
  auto containerd = ChildProcess::Spawn(options);
  ASSERT_TRUE(containerd) << containerd.error().ToString();
  const std::vector<std::string> ctr = {"ctr", "-a", socket};
  auto ctr_args = [&](std::vector<std::string> args) {
    args.insert(args.begin(), ctr.begin(), ctr.end());
    return args;
  };
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    auto r = RunCapture(ctr_args({"version"}));
    up = r && r->exit_code == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(up) << ReadFile(dir + "/containerd.log");
  Tool(ctr_args({"content", "fetch", "--plain-http", ref}));
  std::string images = Tool(ctr_args({"images", "ls", "-q"}));
  EXPECT_NE(images.find(ref), std::string::npos) << images;
  ASSERT_TRUE(containerd->Signal(SIGTERM));
  (void)containerd->Wait();
}

std::string ConvertTest::MakeSecondVersion(const std::string& dir, const std::string& tag) {
  const std::string script = "cd '" + dir + "'\n" + "umoci init --layout layout\n" +
                             "umoci new --image layout:base\n"
                             "umoci unpack --image layout:base bundle >/dev/null\n"
                             "cp -a '" +
                             image_.rootfs_dir +
                             "/.' bundle/rootfs/\n"
                             "echo 'version 2' >> bundle/rootfs/etc/motd\n"
                             "head -c 2000000 /dev/urandom > bundle/rootfs/opt/tessera/new.bin\n"
                             "rm -rf bundle/rootfs/usr/share/doc/dpkg bundle/rootfs/etc/issue\n"
                             "umoci repack --image layout:" +
                             tag +
                             " bundle\n"
                             "rm -rf bundle\n"
                             "umoci unpack --image layout:" +
                             tag + " unpacked >/dev/null\n";
  Tool({"sh", "-euc", script});
  return dir + "/unpacked/rootfs";
}

}  // namespace tessera::testing
