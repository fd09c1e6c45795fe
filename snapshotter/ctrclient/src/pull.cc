#include "tessera/ctrclient/pull.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <span>

#include "containerd.h"

#include "tessera/oci/image.h"
#include "tessera/oci/reference.h"
#include "tessera/oci/registry.h"

namespace tessera::ctrclient {
namespace {

using internal::Containerd;
using internal::ContentDescriptor;
using internal::Labels;

// Labels containerd's CRI plugin passes to snapshotters on Prepare; tessera-snapshotter reads
// them (with the layer's own annotations) to recognise and locate a remote layer.
constexpr const char* kSnapshotRef = "containerd.io/snapshot.ref";
constexpr const char* kCriImageRef = "containerd.io/snapshot/cri.image-ref";
constexpr const char* kCriLayerDigest = "containerd.io/snapshot/cri.layer-digest";
constexpr const char* kCriManifestDigest = "containerd.io/snapshot/cri.manifest-digest";
// containerd passes a snapshotter only labels under "containerd.io/snapshot/": the layer's
// Tessera annotations travel as these.
constexpr const char* kTesseraBlob = "containerd.io/snapshot/tessera.blob";
constexpr const char* kTesseraBootstrap = "containerd.io/snapshot/tessera.bootstrap";

std::string HostArch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

struct Resolved {
  oci::FetchedDocument top;       // what the tag names (manifest or index)
  oci::FetchedDocument manifest;  // this platform's manifest
};

Result<Resolved> Resolve(oci::RegistryClient& reg, const oci::Reference& ref) {
  Resolved out;
  TRY(out.top, reg.GetManifest(ref.repository, ref.ManifestRef()));
  if (!oci::IsIndexType(out.top.media_type)) {
    out.manifest = out.top;
    return out;
  }
  TRY(oci::Index index, oci::ParseIndex(out.top.bytes, out.top.media_type));
  const std::string arch = HostArch();
  for (const oci::Descriptor& d : index.manifests) {
    if (d.platform && d.platform->os == "linux" && d.platform->architecture == arch) {
      TRY(out.manifest, reg.GetManifest(ref.repository, d.digest));
      return out;
    }
  }
  return MakeError(ErrorCode::kNotFound, ref.ToString() + ": no manifest for linux/" + arch);
}

ContentDescriptor DescriptorOf(const oci::FetchedDocument& doc) {
  return {.media_type = doc.media_type,
          .digest = doc.digest,
          .size = static_cast<int64_t>(doc.bytes.size())};
}

Labels LayerLabels(const std::string& image, const std::string& manifest_digest,
                   const oci::Descriptor& layer, const std::string& chain_id, bool cri_only) {
  Labels labels;
  if (!cri_only) labels.insert(layer.annotations.begin(), layer.annotations.end());
  labels[kSnapshotRef] = chain_id;
  labels[kCriImageRef] = image;
  labels[kCriLayerDigest] = layer.digest;
  labels[kCriManifestDigest] = manifest_digest;
  if (!cri_only && oci::IsTesseraBootstrap(layer)) labels[kTesseraBootstrap] = "true";
  if (!cri_only && oci::IsTesseraBlob(layer)) labels[kTesseraBlob] = "true";
  return labels;
}

// Prepares each layer not yet present so that the snapshotter commits it as remote.
Status PrepareLayers(Containerd& ctr, const PullOptions& options, const oci::Manifest& manifest,
                     const std::string& manifest_digest, const std::vector<std::string>& chain,
                     PullResult* result) {
  const std::string nonce =
      std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  for (size_t i = 0; i < chain.size(); ++i) {
    if (ctr.StatSnapshot(options.snapshotter, chain[i])) continue;  // already there
    const std::string key = "tesseractl-extract-" + nonce + "-" + chain[i];
    const std::string parent = i == 0 ? "" : chain[i - 1];
    Status st =
        ctr.PrepareSnapshot(options.snapshotter, key, parent,
                            LayerLabels(options.reference, manifest_digest, manifest.layers[i],
                                        chain[i], options.cri_labels_only));
    if (st) {
      (void)ctr.RemoveSnapshot(options.snapshotter, key);
      return MakeError(ErrorCode::kFailedPrecondition,
                       "snapshotter \"" + options.snapshotter + "\" did not take layer " +
                           manifest.layers[i].digest +
                           " as a remote Tessera layer (is it tessera-snapshotter?)");
    }
    if (st.error().code != ErrorCode::kAlreadyExists) return st.error();
    ++result->remote_layers;
  }
  return Ok();
}

Status StoreContent(Containerd& ctr, const PullOptions& options, const Resolved& docs,
                    const oci::Manifest& manifest, const std::vector<uint8_t>& config,
                    const std::string& chain_id) {
  // The config carries the snapshot reference containerd's unpacker sets, so the image's
  // snapshots stay referenced; the manifest references its config and layers.
  RETURN_IF_ERROR(ctr.WriteContent(
      {.media_type = manifest.config.media_type,
       .digest = manifest.config.digest,
       .size = static_cast<int64_t>(config.size())},
      config, {{"containerd.io/gc.ref.snapshot." + options.snapshotter, chain_id}}));
  Labels manifest_labels{{"containerd.io/gc.ref.content.config", manifest.config.digest}};
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    manifest_labels["containerd.io/gc.ref.content.l." + std::to_string(i)] =
        manifest.layers[i].digest;
  }
  RETURN_IF_ERROR(
      ctr.WriteContent(DescriptorOf(docs.manifest), docs.manifest.bytes, manifest_labels));
  if (docs.top.digest == docs.manifest.digest) return Ok();
  return ctr.WriteContent(DescriptorOf(docs.top), docs.top.bytes,
                          {{"containerd.io/gc.ref.content.m.0", docs.manifest.digest}});
}

}  // namespace

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const std::string& d : diff_ids) {
    if (out.empty()) {
      out.push_back(d);
      continue;
    }
    const std::string joined = out.back() + " " + d;
    out.push_back(
        oci::DigestOf(std::span(reinterpret_cast<const uint8_t*>(joined.data()), joined.size())));
  }
  return out;
}

Result<PullResult> PullImage(const PullOptions& options) {
  TRY(oci::Reference ref, oci::Reference::Parse(options.reference));
  TRY(oci::Credentials creds, oci::LoadDockerCredentials(ref.registry, options.docker_config));
  oci::RegistryOptions registry_options;
  registry_options.plain_http = options.plain_http;
  TRY(auto reg, oci::RegistryClient::Create(ref.registry, registry_options, creds));
  TRY(Resolved docs, Resolve(*reg, ref));
  TRY(oci::Manifest manifest, oci::ParseManifest(docs.manifest.bytes, docs.manifest.media_type));
  if (!oci::IsTesseraManifest(manifest)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     options.reference +
                         " is not a Tessera image (no bootstrap layer): pull it "
                         "with `ctr image pull`");
  }
  TRY(std::vector<uint8_t> config, reg->GetBlob(ref.repository, manifest.config));
  TRY(oci::ImageConfig parsed, oci::ParseImageConfig(config));
  if (parsed.diff_ids.size() != manifest.layers.size() || parsed.diff_ids.empty()) {
    return MakeError(ErrorCode::kCorrupt,
                     options.reference + ": config has " + std::to_string(parsed.diff_ids.size()) +
                         " diff_ids for " + std::to_string(manifest.layers.size()) + " layers");
  }
  const std::vector<std::string> chain = ChainIds(parsed.diff_ids);
  PullResult result{.image_name = options.reference,
                    .target_digest = docs.top.digest,
                    .manifest_digest = docs.manifest.digest,
                    .chain_id = chain.back(),
                    .layers = static_cast<int>(chain.size())};

  Containerd ctr(options.address, options.ns);
  RETURN_IF_ERROR(
      ctr.CreateLease("tesseractl-pull-" + std::to_string(::getpid()) + "-" +
                      std::to_string(std::chrono::system_clock::now().time_since_epoch().count())));
  Status st = StoreContent(ctr, options, docs, manifest, config, chain.back());
  if (st) st = PrepareLayers(ctr, options, manifest, docs.manifest.digest, chain, &result);
  if (st) st = ctr.PutImage(options.reference, DescriptorOf(docs.top));
  Status lease = ctr.DeleteLease();
  if (!st) return st.error();
  if (!lease) return lease.error();
  return result;
}

}  // namespace tessera::ctrclient
