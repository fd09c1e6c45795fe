// OCI image model: media types, descriptors, manifests, indexes and image configs, with
// strict JSON decoding (every field the code relies on is type-checked; unknown fields are
// kept where a document is rewritten) and canonical encoding.
//
// Docker v2 schema 2 manifests and manifest lists decode into the same types as their OCI
// counterparts; media_type says which one a document was.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::oci {

namespace media {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

// "sha256:<64 lowercase hex>". Only sha256 is accepted.
Status ValidateDigest(std::string_view digest);
// "sha256:" + hex sha256 of data.
std::string DigestOf(std::span<const uint8_t> data);
// Fails with kCorrupt naming `what` when data's size or digest differ from the expected ones.
Status VerifyContent(std::span<const uint8_t> data, std::string_view digest, uint64_t size,
                     std::string_view what);

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", ...
  std::string variant;       // "v8", or empty
  // "linux/amd64" or "linux/arm64/v8".
  std::string ToString() const;
  // Parses "os/arch[/variant]".
  static Result<Platform> Parse(std::string_view text);
  // True if `other` names this platform (an empty variant in `other` matches any).
  bool Matches(const Platform& other) const;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::optional<Platform> platform;  // only in indexes
};

struct Manifest {
  std::string media_type;  // kOciManifest or kDockerManifest
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
};

struct Index {
  std::string media_type;  // kOciIndex or kDockerManifestList
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

// The parts of an image config the tools read; `json` is the whole document so a rewrite keeps
// every field it does not touch.
struct ImageConfig {
  std::string json;
  Platform platform;                  // os / architecture / variant fields
  std::vector<std::string> diff_ids;  // rootfs.diff_ids
};

// True for a manifest (OCI or Docker) / an index (OCI index or Docker list) media type.
bool IsManifestType(std::string_view media_type);
bool IsIndexType(std::string_view media_type);

// Decoders: kCorrupt with the offending field named (e.g. "manifest: layers[2].digest").
// `media_type` is the Content-Type or descriptor type the document came with; when empty the
// document's own mediaType field decides (absent: OCI).
Result<Manifest> ParseManifest(std::span<const uint8_t> json, std::string_view media_type = {});
Result<Index> ParseIndex(std::span<const uint8_t> json, std::string_view media_type = {});
Result<ImageConfig> ParseImageConfig(std::span<const uint8_t> json);
Result<Descriptor> ParseDescriptor(std::string_view json);

// Canonical encoders (compact JSON, fields in a fixed order).
std::string EncodeManifest(const Manifest& manifest);
std::string EncodeIndex(const Index& index);
std::string EncodeDescriptor(const Descriptor& descriptor);

// Returns config json with rootfs.diff_ids replaced, and `history` rewritten so that the number
// of its non-empty-layer entries equals diff_ids.size() (`history_comment` labels new entries).
// Every other field is kept.
Result<std::string> RewriteConfig(const std::string& config_json,
                                  const std::vector<std::string>& diff_ids,
                                  std::string_view history_comment);

// How Tessera images map onto OCI (docs/format.md §4): each Tessera blob is one layer of media
// type kBlobMediaType (its digest is the blob id, diff_id = digest); the bootstrap travels as the
// last layer, a gzip tar holding the single file kBootstrapPath, annotated kAnnotationBootstrap.
// The blob media type starts with "application/vnd.oci.image.layer." on purpose: containerd
// counts only such (and Docker rootfs) types as layers; with any other type its unpacker (CRI
// pulls) downloads the blobs as plain content and fails on the diff_id count. (nydus names its
// blob layers application/vnd.oci.image.layer.nydus.blob.v1 for the same reason.)
namespace tessera_image {
inline constexpr std::string_view kBlobMediaType =
    "application/vnd.oci.image.layer.tessera.blob.v1";
inline constexpr std::string_view kAnnotationBlob = "io.tessera.image.blob";            // "true"
inline constexpr std::string_view kAnnotationBootstrap = "io.tessera.image.bootstrap";  // "true"
inline constexpr std::string_view kAnnotationVersion = "io.tessera.image.version";      // "1"
inline constexpr std::string_view kAnnotationSource = "io.tessera.image.source";  // source ref
inline constexpr std::string_view kBootstrapPath = "tessera/bootstrap";
}  // namespace tessera_image

bool IsTesseraBlob(const Descriptor& layer);
bool IsTesseraBootstrap(const Descriptor& layer);
// True if the manifest is a converted Tessera image (has a bootstrap layer).
bool IsTesseraManifest(const Manifest& manifest);

// The bootstrap layer: a deterministic gzip tar holding kBootstrapPath (mode 0644, mtime 0).
// diff_id receives "sha256:" of the uncompressed tar.
std::vector<uint8_t> PackBootstrapLayer(std::span<const uint8_t> bootstrap, std::string* diff_id);
// The bootstrap file from a bootstrap layer (gzip or plain tar); kCorrupt if absent or damaged.
Result<std::vector<uint8_t>> UnpackBootstrapLayer(std::span<const uint8_t> layer);

}  // namespace tessera::oci
