#include "remote/layer_probe.h"

#include "tessera/oci/reference.h"
#include "tessera/oci/registry.h"

namespace tessera::snapshotter::internal {
namespace {

constexpr size_t kMaxCachedManifests = 64;

std::string Get(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

bool LayerProbe::HasCriLabels(const Labels& labels) {
  for (const char* key :
       {kLabelSnapshotRef, kLabelCriImageRef, kLabelCriManifestDigest, kLabelCriLayerDigest}) {
    if (Get(labels, key).empty()) return false;
  }
  return true;
}

Result<oci::Manifest> LayerProbe::Fetch(const std::string& image,
                                        const std::string& manifest_digest) {
  if (auto it = cache_.find(manifest_digest); it != cache_.end()) return it->second;
  TRY(oci::Reference ref, oci::Reference::Parse(image));
  TRY(oci::Credentials creds, oci::LoadDockerCredentials(ref.registry, docker_config_));
  oci::RegistryOptions options;
  options.plain_http = plain_http_loopback_ && ref.IsLoopback();
  TRY(auto client, oci::RegistryClient::Create(ref.registry, options, creds));
  TRY(oci::FetchedDocument doc, client->GetManifest(ref.repository, manifest_digest));
  TRY(oci::Manifest manifest, oci::ParseManifest(doc.bytes, doc.media_type));
  if (cache_.size() >= kMaxCachedManifests) cache_.clear();
  cache_[manifest_digest] = manifest;
  return manifest;
}

Result<RemoteKind> LayerProbe::Probe(const Labels& labels) {
  const std::string image = Get(labels, kLabelCriImageRef);
  const std::string layer = Get(labels, kLabelCriLayerDigest);
  auto manifest = Fetch(image, Get(labels, kLabelCriManifestDigest));
  if (!manifest) return manifest.error().Wrap("manifest of " + image);
  for (const oci::Descriptor& d : manifest->layers) {
    if (d.digest != layer) continue;
    if (oci::IsTesseraBootstrap(d)) return RemoteKind::kBootstrap;
    if (oci::IsTesseraBlob(d)) return RemoteKind::kBlob;
    return RemoteKind::kNone;
  }
  return MakeError(ErrorCode::kNotFound, "layer " + layer + " is not in the manifest of " + image);
}

}  // namespace tessera::snapshotter::internal
