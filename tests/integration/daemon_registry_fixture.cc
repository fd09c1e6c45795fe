#include "daemon_registry_fixture.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "tessera/common/io.h"
#include "tessera/oci/image.h"

namespace tessera::testing {

void DaemonRegistryTest::SetUp() {
  DaemonTest::SetUp();
  if (IsSkipped()) return;
  if (auto why = MissingProgram("docker-registry")) GTEST_SKIP() << *why;
}

void DaemonRegistryTest::TearDown() {
  DaemonTest::TearDown();
  registry_.reset();
}

void DaemonRegistryTest::StartRegistry(const test::RegistryServerOptions& options) {
  registry_options_ = options;
  auto r = test::RegistryServer::Start(options);
  ASSERT_TRUE(r) << r.error().ToString();
  registry_ = std::move(*r);
}

oci::RegistryOptions DaemonRegistryTest::PushOptions() const {
  oci::RegistryOptions o;
  o.plain_http = !registry_options_.tls;
  o.ca_file = registry_->ca_file();
  return o;
}

namespace {

oci::Descriptor Desc(std::string_view media_type, std::string digest, uint64_t size) {
  oci::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

// True once the process has exited (a zombie, not yet reaped) or is gone.
bool Exited(pid_t pid) {
  // /proc files report size 0: read them as a stream.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] == 'Z';
}

Status PushFile(oci::RegistryClient& c, const std::string& repo, const oci::Descriptor& d,
                const std::string& path) {
  TRY(auto src, FileSource::Open(path));
  TRY(bool sent, c.PushBlob(repo, d, *src));
  (void)sent;
  return Ok();
}

Status PushBytes(oci::RegistryClient& c, const std::string& repo, const oci::Descriptor& d,
                 std::span<const uint8_t> bytes) {
  MemorySource src(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  TRY(bool sent, c.PushBlob(repo, d, src));
  (void)sent;
  return Ok();
}

}  // namespace

std::string DaemonRegistryTest::PushImage(const std::string& src, const std::string& repo,
                                          const std::string& tag, std::vector<std::string> extra) {
  image_ = Create(src, boot_, std::move(extra));
  oci::Credentials creds;
  if (registry_options_.auth != test::RegistryServerOptions::Auth::kNone) {
    creds = {registry_options_.username, registry_options_.password, ""};
  }
  auto client = oci::RegistryClient::Create(registry_->host(), PushOptions(), creds);
  EXPECT_TRUE(client) << client.error().ToString();
  if (!client) return "";
  oci::Descriptor blob =
      Desc(oci::tessera_image::kBlobMediaType, "sha256:" + image_.blob_id, image_.blob_bytes);
  blob.annotations[std::string(oci::tessera_image::kAnnotationBlob)] = "true";
  Status st = PushFile(**client, repo, blob, blobs_ + "/" + image_.blob_id);
  EXPECT_TRUE(st) << st.error().ToString();
  auto boot = ReadFile(boot_);
  std::string diff_id;
  std::vector<uint8_t> layer = oci::PackBootstrapLayer(*boot, &diff_id);
  oci::Descriptor bl = Desc(oci::media::kOciLayerGzip, oci::DigestOf(layer), layer.size());
  bl.annotations[std::string(oci::tessera_image::kAnnotationBootstrap)] = "true";
  bootstrap_layer_digest_ = bl.digest;
  st = PushBytes(**client, repo, bl, layer);
  EXPECT_TRUE(st) << st.error().ToString();
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[")" +
                       blob.digest + R"(",")" + diff_id + R"("]}})";
  std::span<const uint8_t> cbytes(reinterpret_cast<const uint8_t*>(config.data()), config.size());
  oci::Descriptor cd = Desc(oci::media::kOciConfig, oci::DigestOf(cbytes), config.size());
  st = PushBytes(**client, repo, cd, cbytes);
  EXPECT_TRUE(st) << st.error().ToString();
  oci::Manifest m;
  m.media_type = std::string(oci::media::kOciManifest);
  m.config = cd;
  m.layers = {blob, bl};
  std::string text = oci::EncodeManifest(m);
  auto put = (*client)->PutManifest(
      repo, tag, oci::media::kOciManifest,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  EXPECT_TRUE(put) << put.error().ToString();
  return registry_->host() + "/" + repo + ":" + tag;
}

int DaemonRegistryTest::StartImageDaemon(const std::string& ref, std::vector<std::string> extra,
                                         bool expect_mount) {
  ChildProcess::Options o;
  o.argv = {
      BinPath("tesserad"), "--image", ref,           "--mountpoint", mnt_, "--cache-dir", cache_,
      "--apisock",         sock_,     "--log-level", "debug"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.stderr_path = Path("tesserad.log");
  ::unlink(o.stderr_path.c_str());  // this run's log only
  auto child = ChildProcess::Spawn(o);
  EXPECT_TRUE(child) << child.error().ToString();
  if (!child) return -2;
  daemon_.emplace(std::move(*child));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Mounted() && !Exited(daemon_->pid()) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (Mounted()) {
    EXPECT_TRUE(expect_mount);
    return -1;
  }
  // Still running without a mount after the bound: it is stuck, end it.
  if (!Exited(daemon_->pid())) (void)daemon_->Signal(SIGKILL);
  auto code = daemon_->Wait();
  daemon_.reset();
  EXPECT_FALSE(expect_mount) << "tesserad did not mount; log:\n" << DaemonLog();
  return code ? *code : -2;
}

void DaemonRegistryTest::StartApiDaemon() {
  ChildProcess::Options o;
  o.argv = {BinPath("tesserad"), "--apisock", sock_, "--cache-dir", cache_, "--log-level", "info"};
  o.stderr_path = Path("tesserad.log");
  auto child = ChildProcess::Spawn(o);
  ASSERT_TRUE(child) << child.error().ToString();
  daemon_.emplace(std::move(*child));
}

std::string DaemonRegistryTest::DaemonLog() const {
  auto bytes = ReadFile(Path("tesserad.log"));
  return bytes ? std::string(bytes->begin(), bytes->end()) : "";
}

double DaemonRegistryTest::Metric(const std::string& name) {
  return std::max(0.0, MetricValue(Metrics(), name));
}

DaemonRegistryTest::TimedRead DaemonRegistryTest::Read(const std::string& path) const {
  TimedRead r;
  auto t0 = std::chrono::steady_clock::now();
  r.bytes = ReadAll(path);
  r.took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  return r;
}

}  // namespace tessera::testing
