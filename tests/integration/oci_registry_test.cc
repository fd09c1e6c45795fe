// The OCI registry client against a real registry (Debian docker-registry on loopback): pushes
// (monolithic and chunked), HEAD, verified GETs, range reads, manifests, cross-repo mounts,
// streaming, basic auth over TLS, bearer tokens and an unreachable registry.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "support/registry_server.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/oci/layout.h"
#include "tessera/oci/registry.h"
#include "tessera/oci/store.h"

namespace tessera::oci {
namespace {

using test::RegistryServer;
using test::RegistryServerOptions;

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

Descriptor BlobDescriptor(const std::vector<uint8_t>& data) {
  return Descriptor{std::string(media::kOciLayerGzip), DigestOf(data), data.size(), {}, {}, {}};
}

std::unique_ptr<RegistryServer> StartServer(const RegistryServerOptions& options = {}) {
  auto server = RegistryServer::Start(options);
  EXPECT_TRUE(server.has_value()) << server.error().ToString();
  return server ? std::move(*server) : nullptr;
}

std::unique_ptr<RegistryClient> Client(const RegistryServer& server, Credentials creds = {},
                                       RegistryOptions options = {}) {
  options.plain_http = server.ca_file().empty();
  options.ca_file = server.ca_file();
  auto client = RegistryClient::Create(server.host(), options, std::move(creds));
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

// Pushes a config, one layer and a manifest tagged `tag`; returns the manifest bytes.
std::string PushImage(RegistryClient& client, const std::string& repo, const std::string& tag,
                      const std::vector<uint8_t>& layer) {
  std::string config_json =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
      DigestOf(layer) + R"("]}})";
  std::vector<uint8_t> config(config_json.begin(), config_json.end());
  Manifest m;
  m.media_type = std::string(media::kOciManifest);
  m.config =
      Descriptor{std::string(media::kOciConfig), DigestOf(config), config.size(), {}, {}, {}};
  m.layers.push_back(BlobDescriptor(layer));
  EXPECT_TRUE(client.PushBlob(repo, m.config, MemorySource(config)).has_value());
  EXPECT_TRUE(client.PushBlob(repo, m.layers[0], MemorySource(layer)).has_value());
  std::string bytes = EncodeManifest(m);
  auto put = client.PutManifest(repo, tag, media::kOciManifest,
                                {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  EXPECT_TRUE(put.has_value()) << put.error().ToString();
  return bytes;
}

// Writes an OCI layout (through ImageStore) whose image tagged `tag` is a Tessera-style image:
// a config and the bootstrap layer made of `bootstrap`; returns that layer's bytes in *layer.
bool WriteTesseraLayout(const std::string& dir, const std::string& tag,
                        const std::vector<uint8_t>& bootstrap, std::vector<uint8_t>* layer) {
  auto location = ImageLocation::Parse("oci:" + dir + ":" + tag);
  if (!location) return false;
  auto layout_store = OpenImageStore(*location, {}, /*create=*/true);
  if (!layout_store) return false;
  std::string diff_id;
  *layer = PackBootstrapLayer(bootstrap, &diff_id);
  std::string config_json =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + diff_id +
      R"("]}})";
  std::vector<uint8_t> config(config_json.begin(), config_json.end());
  Manifest m;
  m.media_type = std::string(media::kOciManifest);
  m.config =
      Descriptor{std::string(media::kOciConfig), DigestOf(config), config.size(), {}, {}, {}};
  m.layers.push_back(Descriptor{std::string(media::kOciLayerGzip),
                                DigestOf(*layer),
                                layer->size(),
                                {{std::string(tessera_image::kAnnotationBootstrap), "true"}},
                                {},
                                {}});
  if (!(*layout_store)->PutBlob(m.config, MemorySource(config))) return false;
  if (!(*layout_store)->PutBlob(m.layers[0], MemorySource(*layer))) return false;
  std::string mbytes = EncodeManifest(m);
  std::span<const uint8_t> mspan(reinterpret_cast<const uint8_t*>(mbytes.data()), mbytes.size());
  Descriptor md{std::string(media::kOciManifest), DigestOf(mspan), mspan.size(), {}, {}, {}};
  return (*layout_store)->Tag(md, mspan).has_value();
}

TEST(OciRegistryTest, PushMonolithicAndChunkedThenHeadAndVerifiedGet) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  RegistryOptions opts;
  opts.upload_chunk_size = 64 * 1024;
  auto client = Client(*server, {}, opts);
  auto small = RandomBytes(10000, 1);
  auto big = RandomBytes(300000, 2);  // 5 PATCH chunks
  auto pushed_small = client->PushBlob("t/a", BlobDescriptor(small), MemorySource(small));
  ASSERT_TRUE(pushed_small.has_value()) << pushed_small.error().ToString();
  EXPECT_TRUE(*pushed_small);
  uint64_t patches_before = server->CountRequests("PATCH /v2/t/a/blobs/uploads/");
  EXPECT_EQ(patches_before, 0u);
  uint64_t progress = 0;
  auto pushed_big = client->PushBlob("t/a", BlobDescriptor(big), MemorySource(big),
                                     [&](uint64_t done, uint64_t) { progress = done; });
  ASSERT_TRUE(pushed_big.has_value()) << pushed_big.error().ToString();
  EXPECT_EQ(server->CountRequests("PATCH /v2/t/a/blobs/uploads/"), 5u);
  EXPECT_EQ(progress, big.size());
  // Already there: nothing is sent.
  auto again = client->PushBlob("t/a", BlobDescriptor(big), MemorySource(big));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);

  auto head = client->HeadBlob("t/a", DigestOf(big));
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ(**head, big.size());
  auto missing = client->HeadBlob("t/a", DigestOf(RandomBytes(10, 3)));
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  auto got = client->GetBlob("t/a", BlobDescriptor(big));
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, big);
  // A descriptor that lies about the size is caught.
  Descriptor lying = BlobDescriptor(small);
  lying.size -= 1;
  auto bad = client->GetBlob("t/a", lying);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt) << bad.error().ToString();
}

TEST(OciRegistryTest, RangeReadsMatchTheSource) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(*server);
  auto data = RandomBytes(1 << 20, 4);
  ASSERT_TRUE(client->PushBlob("t/r", BlobDescriptor(data), MemorySource(data)).has_value());
  std::string digest = DigestOf(data);
  struct Case {
    uint64_t offset, size;
  };
  for (Case c : {Case{0, 1}, Case{0, 4096}, Case{500000, 12345}, Case{data.size() - 7, 7},
                 Case{data.size() - 1, 1}}) {
    std::vector<uint8_t> out(c.size);
    auto st = client->ReadBlobRange("t/r", digest, c.offset, out);
    ASSERT_TRUE(st.has_value()) << c.offset << ": " << st.error().ToString();
    EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + c.offset)) << c.offset;
  }
  // Only the requested ranges were served.
  EXPECT_EQ(server->BlobBytesServed(), 1u + 4096 + 12345 + 7 + 1);
  std::vector<uint8_t> past(10);
  auto st = client->ReadBlobRange("t/r", digest, data.size() - 5, past);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kOutOfRange) << st.error().ToString();
}

TEST(OciRegistryTest, ManifestsByTagAndDigest) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(*server);
  auto layer = RandomBytes(5000, 5);
  std::string bytes = PushImage(*client, "t/m", "v1", layer);
  auto by_tag = client->GetManifest("t/m", "v1");
  ASSERT_TRUE(by_tag.has_value()) << by_tag.error().ToString();
  EXPECT_EQ(std::string(by_tag->bytes.begin(), by_tag->bytes.end()), bytes);
  EXPECT_EQ(by_tag->media_type, media::kOciManifest);
  auto by_digest = client->GetManifest("t/m", by_tag->digest);
  ASSERT_TRUE(by_digest.has_value());
  EXPECT_EQ(by_digest->bytes, by_tag->bytes);
  auto parsed = ParseManifest(by_tag->bytes, by_tag->media_type);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->layers.at(0).digest, DigestOf(layer));
  auto missing = client->GetManifest("t/m", "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(OciRegistryTest, CrossRepoMount) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(*server);
  auto data = RandomBytes(20000, 6);
  ASSERT_TRUE(client->PushBlob("t/src", BlobDescriptor(data), MemorySource(data)).has_value());
  auto mounted = client->MountBlob("t/dst", DigestOf(data), "t/src");
  ASSERT_TRUE(mounted.has_value()) << mounted.error().ToString();
  EXPECT_TRUE(*mounted);
  auto head = client->HeadBlob("t/dst", DigestOf(data));
  ASSERT_TRUE(head.has_value() && head->has_value());
  auto absent = client->MountBlob("t/dst", DigestOf(RandomBytes(5, 7)), "t/src");
  ASSERT_TRUE(absent.has_value());
  EXPECT_FALSE(*absent);
}

Result<std::vector<uint8_t>> Drain(ByteStream& stream, size_t piece) {
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(piece);
  while (true) {
    TRY(size_t n, stream.Read(buf));
    if (n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
}

TEST(OciRegistryTest, OpenBlobStreamsAndVerifies) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = Client(*server);
  auto data = RandomBytes(6 << 20, 8);  // larger than the stream's buffer
  ASSERT_TRUE(client->PushBlob("t/s", BlobDescriptor(data), MemorySource(data)).has_value());
  auto stream = client->OpenBlob("t/s", BlobDescriptor(data));
  ASSERT_TRUE(stream.has_value());
  auto got = Drain(**stream, 7777);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, data);

  Descriptor wrong = BlobDescriptor(data);
  wrong.size += 10;  // the registry sends fewer bytes than promised
  auto short_stream = client->OpenBlob("t/s", wrong);
  ASSERT_TRUE(short_stream.has_value());
  auto bad = Drain(**short_stream, 1 << 16);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt) << bad.error().ToString();

  // Closing a stream early does not hang.
  auto early = client->OpenBlob("t/s", BlobDescriptor(data));
  ASSERT_TRUE(early.has_value());
  std::vector<uint8_t> one(10);
  ASSERT_TRUE((*early)->Read(one).has_value());
  early->reset();
}

TEST(OciRegistryTest, BasicAuthOverTlsWithTheTestCa) {
  RegistryServerOptions o;
  o.tls = true;
  o.auth = RegistryServerOptions::Auth::kBasic;
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = Client(*server, Credentials{o.username, o.password, ""});
  ASSERT_TRUE(client->Ping().has_value());
  auto layer = RandomBytes(3000, 9);
  PushImage(*client, "t/tls", "v1", layer);
  auto got = client->GetBlob("t/tls", BlobDescriptor(layer));
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, layer);
  EXPECT_EQ(client->Stats().token_fetches, 0u);
  auto dir = TempDir::Create("oci-layout");
  ASSERT_TRUE(dir.has_value());
  std::vector<uint8_t> skopeo_layer;
  ASSERT_TRUE(WriteTesseraLayout(dir->path() + "/img", "v1", RandomBytes(999, 13), &skopeo_layer));
  auto pushed = server->PushLayout(dir->path() + "/img", "v1", "t/tls-skopeo:v1");
  ASSERT_TRUE(pushed.has_value()) << pushed.error().ToString();
  auto pulled = client->GetBlob("t/tls-skopeo", BlobDescriptor(skopeo_layer));
  ASSERT_TRUE(pulled.has_value()) << pulled.error().ToString();
  EXPECT_EQ(*pulled, skopeo_layer);

  // Without the CA the server is not trusted.
  RegistryOptions no_ca;
  auto untrusted =
      RegistryClient::Create(server->host(), no_ca, Credentials{o.username, o.password, ""});
  ASSERT_TRUE(untrusted.has_value());
  auto ping = (*untrusted)->Ping();
  ASSERT_FALSE(ping.has_value());
  EXPECT_NE(ping.error().ToString().find("TLS"), std::string::npos) << ping.error().ToString();
}

TEST(OciRegistryTest, WrongPasswordIsPermissionWithoutTheSecret) {
  RegistryServerOptions o;
  o.tls = true;
  o.auth = RegistryServerOptions::Auth::kBasic;
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  const std::string wrong = "not-the-Pa55word";
  auto client = Client(*server, Credentials{o.username, wrong, ""});
  auto st = client->HeadBlob("t/x", DigestOf(RandomBytes(4, 10)));
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  std::string msg = st.error().ToString();
  EXPECT_EQ(msg.find(wrong), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.username), std::string::npos) << msg;
  auto anonymous = Client(*server);
  auto anon = anonymous->Ping();
  ASSERT_FALSE(anon.has_value());
  EXPECT_EQ(anon.error().code, ErrorCode::kPermission) << anon.error().ToString();
}

TEST(OciRegistryTest, TokenFlowAndRenewalAfterExpiry) {
  RegistryServerOptions o;
  o.auth = RegistryServerOptions::Auth::kToken;
  o.token_ttl_seconds = 2;
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = Client(*server, Credentials{o.username, o.password, ""});
  auto layer = RandomBytes(4000, 11);
  PushImage(*client, "t/tok", "v1", layer);
  auto got = client->GetBlob("t/tok", BlobDescriptor(layer));
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  uint64_t fetches = client->Stats().token_fetches;
  EXPECT_GE(fetches, 1u);
  // The cached token is reused while it is valid...
  ASSERT_TRUE(client->GetBlob("t/tok", BlobDescriptor(layer)).has_value());
  EXPECT_EQ(client->Stats().token_fetches, fetches);
  // ...and renewed once it has expired.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ASSERT_TRUE(client->GetBlob("t/tok", BlobDescriptor(layer)).has_value());
  EXPECT_GT(client->Stats().token_fetches, fetches);

  const std::string wrong = "wr0ng-token-pass";
  auto bad = Client(*server, Credentials{o.username, wrong, ""});
  auto st = bad->GetManifest("t/tok", "v1");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_EQ(st.error().ToString().find(wrong), std::string::npos);
  // A refresh token (docker "identitytoken") is exchanged by POST.
  auto refresh = Client(*server, Credentials{"", "", o.password});
  auto doc = refresh->GetManifest("t/tok", "v1");
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();
}

TEST(OciRegistryTest, StoppedRegistryIsUnavailableWithinTheTimeouts) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::string host = server->host();
  server.reset();
  RegistryOptions o;
  o.plain_http = true;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.request_timeout = std::chrono::milliseconds(1000);
  o.max_retries = 2;
  o.retry_backoff = std::chrono::milliseconds(20);
  auto client = RegistryClient::Create(host, o);
  ASSERT_TRUE(client.has_value());
  auto start = std::chrono::steady_clock::now();
  auto st = (*client)->Ping();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable) << st.error().ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ((*client)->Stats().retries, 2u);
  std::vector<uint8_t> out(10);
  auto range = (*client)->ReadBlobRange("t/x", DigestOf(out), 0, out);
  EXPECT_EQ(range.error().code, ErrorCode::kUnavailable);
}

TEST(OciRegistryTest, LayoutPushedBySkopeoReadsBackThroughImageStore) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto dir = TempDir::Create("oci-layout");
  ASSERT_TRUE(dir.has_value());
  auto bootstrap = RandomBytes(100000, 12);
  std::vector<uint8_t> layer;
  ASSERT_TRUE(WriteTesseraLayout(dir->path() + "/img", "v2", bootstrap, &layer));
  auto pushed = server->PushLayout(dir->path() + "/img", "v2", "t/skopeo:v2");
  ASSERT_TRUE(pushed.has_value()) << pushed.error().ToString();
  auto remote = ImageLocation::Parse(server->host() + "/t/skopeo:v2");
  ASSERT_TRUE(remote.has_value());
  RegistryOptions ro;
  ro.plain_http = true;
  auto store = OpenImageStore(*remote, ro, false, Credentials{"unused", "x", ""});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto doc = (*store)->Resolve();
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();
  auto manifest = ParseManifest(doc->bytes, doc->media_type);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  ASSERT_EQ(manifest->layers.size(), 1u);
  auto stream = (*store)->OpenBlob(manifest->layers[0]);
  ASSERT_TRUE(stream.has_value());
  auto got = Drain(**stream, 4096);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, layer);
  EXPECT_TRUE(IsTesseraManifest(*manifest));
  auto unpacked = UnpackBootstrapLayer(*got);
  ASSERT_TRUE(unpacked.has_value()) << unpacked.error().ToString();
  EXPECT_EQ(*unpacked, bootstrap);
  auto cfg = (*store)->ReadDocument(manifest->config);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_TRUE(ParseImageConfig(*cfg).has_value());
}

}  // namespace
}  // namespace tessera::oci
