// Private to the converter (tessera/builder/convert.h): the steps of one conversion and the
// pure pieces they share, split so that each can be read, and the pure ones tested, alone.
//
// Thread-safety: a ConvertContext is shared by the layer workers; `mu` guards the summary,
// the layer cache and progress calls. Everything else in it is set before the workers start.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tessera/builder/convert.h"
#include "tessera/common/result.h"
#include "tessera/oci/image.h"
#include "tessera/oci/reference.h"
#include "tessera/oci/store.h"

namespace tessera::builder::convert {

// ---- pure pieces (manifest_plan.cc) ----

// The manifests of an index to convert: every manifest entry, or those matching `platform`.
// Entries that are not manifests, or whose platform is "unknown/unknown" (build attestations),
// are skipped. kNotFound when nothing is left.
Result<std::vector<oci::Descriptor>> SelectManifests(const oci::Index& index,
                                                     const std::optional<oci::Platform>& platform);

// kInvalidArgument if the source manifest is already a Tessera image, kUnsupported if it has
// no layers or one of its layers is not a tar layer (plain, gzip or zstd) the builder reads.
Status CheckSourceManifest(const oci::Manifest& manifest);

// A Tessera blob as a layer: media type kBlobMediaType, annotation kAnnotationBlob.
oci::Descriptor BlobLayer(const std::string& digest, uint64_t size);

// The converted manifest: the blob layers in order, then the bootstrap layer, the config, and
// the version and source annotations.
oci::Manifest BuildManifest(const std::vector<oci::Descriptor>& blobs,
                            const oci::Descriptor& bootstrap, const oci::Descriptor& config,
                            const std::string& source);

// The converted index: one entry per converted manifest, with its platform.
oci::Index BuildIndex(const std::vector<oci::Descriptor>& manifests, const std::string& source);

// ---- reading documents (documents.cc) ----

// What a location names: a manifest or an index.
struct TopDocument {
  oci::Descriptor descriptor;  // media type, digest and size of the document
  std::optional<oci::Manifest> manifest;
  std::optional<oci::Index> index;
};
Result<TopDocument> ReadTop(oci::ImageStore& store);
// The manifest a descriptor names, read from the store (verified) and parsed.
Result<oci::Manifest> ReadManifest(oci::ImageStore& store, const oci::Descriptor& descriptor);

// ---- shared state ----

// A converted image used as a chunk dictionary for one platform.
struct DictImage {
  std::string bootstrap_path;                    // its bootstrap, in the work directory
  std::map<std::string, oci::Descriptor> blobs;  // its blob layers by digest
};

// A source layer once converted (cached by source digest and dictionary).
struct LayerOutput {
  std::string bootstrap_path;
  CreateSummary create;
};

struct ConvertContext {
  const ConvertOptions& options;
  oci::ImageLocation source_location;
  oci::ImageLocation target_location;
  std::unique_ptr<oci::ImageStore> source;
  std::unique_ptr<oci::ImageStore> target;
  std::unique_ptr<oci::ImageStore> dict_store;  // null without --chunk-dict
  oci::ImageLocation dict_location;
  std::optional<oci::Platform> platform_filter;  // --platform
  std::string work_dir;                          // temporary, removed by the caller
  std::string blob_dir;                          // work_dir/blobs: every Tessera blob made here

  std::mutex mu;
  ConvertSummary summary;
  std::map<std::string, LayerOutput> layer_cache;
  uint64_t next_file = 0;  // names work files

  explicit ConvertContext(const ConvertOptions& o) : options(o) {}
  void Report(const ConvertProgress& progress);
};

// ---- steps ----

// layers.cc: runs fn(0) .. fn(count - 1), `parallel` at a time (at least 1); after a failure
// no new index starts. Returns the error of the lowest failed index.
Status ParallelFor(size_t count, size_t parallel, const std::function<Status(size_t)>& fn);

// dict.cc: the dictionary image for `platform` (the matching manifest of an index, or the
// one manifest): its bootstrap unpacked into the work directory and its blob layers.
Result<DictImage> LoadDict(ConvertContext& ctx, const oci::Platform& platform);

// layers.cc: converts every layer of a manifest, options.parallel_layers at a time. Returns
// the layer bootstraps lowest first. The error names the layer index and digest.
Result<std::vector<LayerOutput>> ConvertLayers(ConvertContext& ctx, const oci::Manifest& manifest,
                                               const std::string& platform, const DictImage* dict);

// push.cc: stores a blob file made in the work directory / a dictionary blob / bytes in
// the target, counting what was sent.
Status PushFile(ConvertContext& ctx, const oci::Descriptor& blob, const std::string& path,
                const std::string& platform, size_t index, size_t count);
Status PushDictBlob(ConvertContext& ctx, const oci::Descriptor& blob, const std::string& platform,
                    size_t index, size_t count);
Status PushBytes(ConvertContext& ctx, const oci::Descriptor& blob, std::span<const uint8_t> bytes);

// platform.cc: converts one source manifest (`source` describes it; its platform, if set, names
// the platform, else the config does) and stores the converted manifest, untagged. Returns the
// converted manifest's descriptor, with the platform set.
struct StoredDocument {
  oci::Descriptor descriptor;
  std::string bytes;
};
Result<StoredDocument> ConvertManifest(ConvertContext& ctx, const oci::Descriptor& source,
                                       const oci::Manifest& manifest);

}  // namespace tessera::builder::convert
