// The pure parts of a conversion: which manifests to convert, and the documents it writes.
#include <string_view>

#include "convert/convert_internal.h"

namespace tessera::builder::convert {
namespace {

namespace ti = oci::tessera_image;

bool IsTarLayer(std::string_view media_type) {
  return media_type == oci::media::kOciLayer || media_type == oci::media::kOciLayerGzip ||
         media_type == oci::media::kOciLayerZstd || media_type == oci::media::kDockerLayerGzip ||
         media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
         media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar" ||
         media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
         media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
}

}  // namespace

Result<std::vector<oci::Descriptor>> SelectManifests(const oci::Index& index,
                                                     const std::optional<oci::Platform>& platform) {
  std::vector<oci::Descriptor> out;
  for (const oci::Descriptor& entry : index.manifests) {
    if (!oci::IsManifestType(entry.media_type)) continue;
    if (entry.platform && entry.platform->os == "unknown") continue;
    if (platform && (!entry.platform || !platform->Matches(*entry.platform))) continue;
    out.push_back(entry);
  }
  if (out.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     platform ? "index has no manifest for platform " + platform->ToString()
                              : std::string("index has no image manifest"));
  }
  return out;
}

Status CheckSourceManifest(const oci::Manifest& manifest) {
  if (oci::IsTesseraManifest(manifest)) {
    return MakeError(ErrorCode::kInvalidArgument, "the source is already a Tessera image");
  }
  if (manifest.layers.empty()) {
    return MakeError(ErrorCode::kUnsupported, "the source image has no layers");
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const oci::Descriptor& layer = manifest.layers[i];
    if (!IsTarLayer(layer.media_type)) {
      return MakeError(ErrorCode::kUnsupported, "layer " + std::to_string(i) + " (" + layer.digest +
                                                    "): media type '" + layer.media_type +
                                                    "' is not a tar layer");
    }
  }
  return Ok();
}

oci::Descriptor BlobLayer(const std::string& digest, uint64_t size) {
  oci::Descriptor d;
  d.media_type = std::string(ti::kBlobMediaType);
  d.digest = digest;
  d.size = size;
  d.annotations[std::string(ti::kAnnotationBlob)] = "true";
  return d;
}

oci::Manifest BuildManifest(const std::vector<oci::Descriptor>& blobs,
                            const oci::Descriptor& bootstrap, const oci::Descriptor& config,
                            const std::string& source) {
  oci::Manifest m;
  m.media_type = std::string(oci::media::kOciManifest);
  m.config = config;
  m.layers = blobs;
  m.layers.push_back(bootstrap);
  m.annotations[std::string(ti::kAnnotationVersion)] = "1";
  m.annotations[std::string(ti::kAnnotationSource)] = source;
  return m;
}

oci::Index BuildIndex(const std::vector<oci::Descriptor>& manifests, const std::string& source) {
  oci::Index index;
  index.media_type = std::string(oci::media::kOciIndex);
  index.manifests = manifests;
  index.annotations[std::string(ti::kAnnotationVersion)] = "1";
  index.annotations[std::string(ti::kAnnotationSource)] = source;
  return index;
}

}  // namespace tessera::builder::convert
