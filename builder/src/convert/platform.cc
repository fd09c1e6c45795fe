// Converting one source manifest: layers -> merged bootstrap -> blobs, bootstrap layer, config
// and manifest in the target (untagged; the caller tags once every platform is stored).
#include <sys/stat.h>

#include "convert/convert_internal.h"

#include "tessera/builder/image.h"
#include "tessera/common/io.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::builder::convert {
namespace {

namespace ti = oci::tessera_image;

constexpr size_t kParallelUploads = 2;

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Stores every blob the merged bootstrap names (two at a time): blobs made here from the work
// directory, dictionary blobs from the dictionary image. Returns their layers, in blob-table
// order.
Result<std::vector<oci::Descriptor>> PushBlobs(ConvertContext& ctx, const std::string& bootstrap,
                                               const DictImage* dict, const std::string& platform) {
  TRY(MappedRegion image, MappedRegion::MapFile(bootstrap));
  TRY(storage::BootstrapTables tables, storage::DecodeTables(image.bytes()));
  const size_t count = tables.blobs.size();
  std::vector<oci::Descriptor> layers;
  for (const storage::BlobInfo& info : tables.blobs) {
    layers.push_back(BlobLayer("sha256:" + info.IdHex(), info.compressed_size));
  }
  RETURN_IF_ERROR(ParallelFor(count, kParallelUploads, [&](size_t i) -> Status {
    const oci::Descriptor& layer = layers[i];
    const std::string path = ctx.blob_dir + "/" + layer.digest.substr(7);
    if (FileExists(path)) return PushFile(ctx, layer, path, platform, i, count);
    if (dict == nullptr || dict->blobs.count(layer.digest) == 0) {
      return MakeError(ErrorCode::kInternal, "merged bootstrap names blob " + layer.digest +
                                                 " that is neither new nor in the chunk dict");
    }
    {
      std::lock_guard lock(ctx.mu);
      ++ctx.summary.dict_blobs;
    }
    return PushDictBlob(ctx, dict->blobs.at(layer.digest), platform, i, count);
  }));
  return layers;
}

Result<oci::Descriptor> PushBootstrap(ConvertContext& ctx, const std::string& bootstrap,
                                      std::string* diff_id) {
  TRY(MappedRegion image, MappedRegion::MapFile(bootstrap));
  std::vector<uint8_t> packed = oci::PackBootstrapLayer(image.bytes(), diff_id);
  oci::Descriptor layer;
  layer.media_type = std::string(oci::media::kOciLayerGzip);
  layer.digest = oci::DigestOf(packed);
  layer.size = packed.size();
  layer.annotations[std::string(ti::kAnnotationBootstrap)] = "true";
  RETURN_IF_ERROR_CTX(PushBytes(ctx, layer, packed), "push bootstrap layer");
  return layer;
}

Result<oci::Descriptor> PushConfig(ConvertContext& ctx, const oci::ImageConfig& config,
                                   const std::vector<std::string>& diff_ids) {
  TRY(std::string json, oci::RewriteConfig(config.json, diff_ids, "tessera-image convert"));
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  oci::Descriptor d;
  d.media_type = std::string(oci::media::kOciConfig);
  d.digest = oci::DigestOf(bytes);
  d.size = bytes.size();
  RETURN_IF_ERROR_CTX(PushBytes(ctx, d, bytes), "push config");
  return d;
}

void Account(ConvertContext& ctx, const oci::Manifest& manifest,
             const std::vector<LayerOutput>& outputs, const std::string& platform) {
  std::lock_guard lock(ctx.mu);
  ctx.summary.platforms.push_back(platform);
  for (size_t i = 0; i < outputs.size(); ++i) {
    ConvertedLayer layer;
    layer.platform = platform;
    layer.source_digest = manifest.layers[i].digest;
    layer.source_bytes = manifest.layers[i].size;
    layer.create = outputs[i].create;
    if (!layer.create.blob_id.empty()) {
      layer.blob_digest = "sha256:" + layer.create.blob_id;
      layer.blob_bytes = layer.create.blob_bytes;
    }
    ctx.summary.layers.push_back(std::move(layer));
  }
}

Result<std::string> MergeLayers(ConvertContext& ctx, const std::vector<LayerOutput>& outputs) {
  std::vector<std::string> paths;
  for (const LayerOutput& out : outputs) paths.push_back(out.bootstrap_path);
  std::string merged;
  {
    std::lock_guard lock(ctx.mu);
    merged = ctx.work_dir + "/merged-" + std::to_string(ctx.next_file++) + ".boot";
  }
  auto result = MergeBootstraps(paths, merged, ctx.options.layer.build_time);
  if (!result) return result.error().Wrap("merge layer bootstraps");
  return merged;
}

}  // namespace

Result<StoredDocument> ConvertManifest(ConvertContext& ctx, const oci::Descriptor& source,
                                       const oci::Manifest& manifest) {
  RETURN_IF_ERROR(CheckSourceManifest(manifest));
  TRY(std::vector<uint8_t> config_bytes, ctx.source->ReadDocument(manifest.config));
  auto config = oci::ParseImageConfig(config_bytes);
  if (!config) return config.error().Wrap("config " + manifest.config.digest);
  const oci::Platform platform = source.platform.value_or(config->platform);
  const std::string name = platform.ToString();
  if (!source.platform && ctx.platform_filter && !ctx.platform_filter->Matches(platform)) {
    return MakeError(ErrorCode::kNotFound,
                     "the source image is " + name + ", not " + ctx.platform_filter->ToString());
  }

  std::optional<DictImage> dict;
  if (ctx.dict_store) {
    TRY(dict, LoadDict(ctx, platform));
  }
  const DictImage* dict_ptr = dict ? &*dict : nullptr;
  TRY(std::vector<LayerOutput> outputs, ConvertLayers(ctx, manifest, name, dict_ptr));
  TRY(std::string merged, MergeLayers(ctx, outputs));

  TRY(std::vector<oci::Descriptor> blobs, PushBlobs(ctx, merged, dict_ptr, name));
  std::string bootstrap_diff_id;
  TRY(oci::Descriptor bootstrap, PushBootstrap(ctx, merged, &bootstrap_diff_id));
  std::vector<std::string> diff_ids;
  for (const oci::Descriptor& blob : blobs) diff_ids.push_back(blob.digest);
  diff_ids.push_back(bootstrap_diff_id);
  TRY(oci::Descriptor config_desc, PushConfig(ctx, *config, diff_ids));

  oci::Manifest converted =
      BuildManifest(blobs, bootstrap, config_desc, ctx.source_location.ToString());
  std::string json = oci::EncodeManifest(converted);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  oci::Descriptor out;
  out.media_type = std::string(oci::media::kOciManifest);
  out.digest = oci::DigestOf(bytes);
  out.size = bytes.size();
  out.platform = platform;
  RETURN_IF_ERROR_CTX(ctx.target->PutDocument(out, bytes), "store manifest " + out.digest);

  Account(ctx, manifest, outputs, name);
  std::lock_guard lock(ctx.mu);
  for (const oci::Descriptor& blob : blobs) ctx.summary.target_bytes += blob.size;
  ctx.summary.target_bytes += bootstrap.size;
  return StoredDocument{out, std::move(json)};
}

}  // namespace tessera::builder::convert
