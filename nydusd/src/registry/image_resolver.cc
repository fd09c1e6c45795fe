#include "registry/image_resolver.h"

#include <stdio.h>

#include <map>

#include "tessera/common/io.h"
#include "tessera/oci/image.h"
#include "tessera/oci/reference.h"
#include "tessera/oci/registry.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::nydusd {
namespace {

constexpr uint64_t kMaxBootstrapLayer = 1ull << 30;

oci::Platform HostPlatform() {
#if defined(__aarch64__)
  return oci::Platform{"linux", "arm64", ""};
#else
  return oci::Platform{"linux", "amd64", ""};
#endif
}

Status PrepareEndpoints(MountConfig& m) {
  TRY(oci::Reference ref, oci::Reference::Parse(m.image));
  auto& o = m.registry;
  if (o.primary.host.empty()) o.primary.host = ref.registry;
  if (o.repo.empty()) o.repo = ref.repository;
  for (auto* e : {&o.primary}) {
    if (!e->credentials.empty()) continue;
    auto creds = oci::LoadDockerCredentials(e->host, m.docker_config);
    if (!creds) return creds.error().Wrap("registry credentials for " + e->host);
    e->credentials = *creds;
  }
  for (auto& e : o.mirrors) {
    if (!e.credentials.empty()) continue;
    auto creds = oci::LoadDockerCredentials(e.host, m.docker_config);
    if (creds) e.credentials = *creds;
  }
  return Ok();
}

Result<oci::Manifest> FetchManifest(oci::RegistryClient& client, const std::string& repo,
                                    const std::string& ref) {
  TRY(oci::FetchedDocument doc, client.GetManifest(repo, ref));
  if (oci::IsIndexType(doc.media_type)) {
    TRY(oci::Index index, oci::ParseIndex(doc.bytes, doc.media_type));
    oci::Platform want = HostPlatform();
    const oci::Descriptor* pick = nullptr;
    for (const auto& d : index.manifests) {
      if (d.platform && d.platform->Matches(want)) {
        pick = &d;
        break;
      }
    }
    if (pick == nullptr) {
      return MakeError(ErrorCode::kNotFound, "no manifest for " + want.ToString() + " in index");
    }
    TRY(doc, client.GetManifest(repo, pick->digest));
  }
  return oci::ParseManifest(doc.bytes, doc.media_type);
}

std::string HexOf(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

Result<std::vector<uint8_t>> DownloadLayer(oci::RegistryClient& client, const std::string& repo,
                                           const oci::Descriptor& d) {
  if (d.size > kMaxBootstrapLayer) {
    return MakeError(ErrorCode::kTooLarge,
                     "bootstrap layer of " + std::to_string(d.size) + " bytes");
  }
  TRY(auto stream, client.OpenBlob(repo, d));
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    TRY(size_t n, stream->Read(buf));
    if (n == 0) break;
    if (bytes.size() + n > d.size)
      return MakeError(ErrorCode::kCorrupt, "bootstrap layer too long");
    bytes.insert(bytes.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  RETURN_IF_ERROR(oci::VerifyContent(bytes, d.digest, d.size, "bootstrap layer"));
  return bytes;
}

Status WriteAtomically(const std::string& path, std::span<const uint8_t> bytes) {
  std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteFile(tmp, bytes, 0600));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename " + tmp);
  return Ok();
}

// The layer from the cache directory if it is there and intact, else from the registry.
Result<std::vector<uint8_t>> BootstrapLayer(oci::RegistryClient& client, const std::string& repo,
                                            const oci::Descriptor& d, const std::string& path,
                                            Logger& logger) {
  if (auto cached = ReadFile(path)) {
    if (oci::VerifyContent(*cached, d.digest, d.size, "cached bootstrap layer")) return cached;
    logger.Warn("cached bootstrap layer does not match its digest; fetching it again",
                {{"file", path}});
  }
  TRY(auto bytes, DownloadLayer(client, repo, d));
  RETURN_IF_ERROR(WriteAtomically(path, bytes));
  logger.Info("bootstrap layer fetched", {{"digest", d.digest}, {"bytes", std::to_string(d.size)}});
  return bytes;
}

// Every blob of the bootstrap must be a blob layer of the manifest, with the same size.
Status CheckBlobTable(std::span<const uint8_t> bootstrap, const oci::Manifest& manifest) {
  TRY(storage::BootstrapTables tables, storage::DecodeTables(bootstrap));
  std::map<std::string, uint64_t> layers;
  for (const auto& l : manifest.layers) {
    if (oci::IsTesseraBlob(l)) layers[l.digest] = l.size;
  }
  for (const auto& b : tables.blobs) {
    std::string digest = "sha256:" + b.IdHex();
    auto it = layers.find(digest);
    if (it == layers.end()) {
      return MakeError(ErrorCode::kCorrupt, "bootstrap names blob " + digest +
                                                " which is not a blob layer of the manifest");
    }
    if (it->second != b.compressed_size) {
      return MakeError(ErrorCode::kCorrupt, "blob " + digest + ": manifest says " +
                                                std::to_string(it->second) + " bytes, bootstrap " +
                                                std::to_string(b.compressed_size));
    }
  }
  return Ok();
}

Status Resolve(MountConfig& m, const std::string& cache_dir, Logger& logger) {
  RETURN_IF_ERROR(PrepareEndpoints(m));
  TRY(oci::Reference ref, oci::Reference::Parse(m.image));
  const auto& p = m.registry.primary;
  oci::RegistryOptions ro;
  ro.plain_http = p.plain_http;
  ro.insecure_tls = p.insecure_tls;
  ro.ca_file = p.ca_file;
  ro.connect_timeout = m.registry.connect_timeout;
  ro.request_timeout = m.registry.timeout;
  TRY(auto client, oci::RegistryClient::Create(p.host, ro, p.credentials));
  TRY(oci::Manifest manifest, FetchManifest(*client, m.registry.repo, ref.ManifestRef()));
  const oci::Descriptor* layer = nullptr;
  for (const auto& l : manifest.layers) {
    if (oci::IsTesseraBootstrap(l)) layer = &l;
  }
  if (layer == nullptr) {
    return MakeError(
        ErrorCode::kUnsupported,
        "not a Tessera image (no bootstrap layer); convert it with tessera-image convert");
  }
  std::string base = cache_dir + "/" + HexOf(layer->digest);
  TRY(auto bytes, BootstrapLayer(*client, m.registry.repo, *layer, base + ".layer", logger));
  TRY(auto bootstrap, oci::UnpackBootstrapLayer(bytes));
  RETURN_IF_ERROR(CheckBlobTable(bootstrap, manifest));
  RETURN_IF_ERROR(WriteAtomically(base + ".boot", bootstrap));
  m.bootstrap = base + ".boot";
  return Ok();
}

}  // namespace

Status ResolveRegistryImage(MountConfig& m, const std::string& cache_dir, Logger& logger) {
  Status st = Resolve(m, cache_dir, logger);
  if (!st) return st.error().Wrap("image " + m.image);
  return st;
}

}  // namespace tessera::nydusd
