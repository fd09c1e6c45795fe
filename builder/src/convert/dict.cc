// The chunk dictionary of a conversion: an earlier converted image, its bootstrap unpacked
// into the work directory (the builder's --chunk-dict input) and its blob layers by digest.
#include "convert/convert_internal.h"

namespace tessera::builder::convert {
namespace {

constexpr uint64_t kMaxBootstrapLayer = 1ull << 30;

Result<std::vector<uint8_t>> ReadWholeBlob(oci::ImageStore& store, const oci::Descriptor& blob) {
  if (blob.size > kMaxBootstrapLayer) {
    return MakeError(ErrorCode::kTooLarge, "bootstrap layer " + blob.digest + " is " +
                                               std::to_string(blob.size) + " bytes");
  }
  TRY(std::unique_ptr<ByteStream> in, store.OpenBlob(blob));
  std::vector<uint8_t> bytes(blob.size);
  size_t done = 0;
  std::vector<uint8_t> rest(4096);
  for (;;) {
    std::span<uint8_t> out =
        done < bytes.size() ? std::span(bytes).subspan(done) : std::span<uint8_t>(rest);
    TRY(size_t n, in->Read(out));
    if (n == 0) break;
    if (done >= bytes.size()) {
      return MakeError(ErrorCode::kCorrupt, blob.digest + ": longer than its descriptor");
    }
    done += n;
  }
  if (done != bytes.size()) {
    return MakeError(ErrorCode::kCorrupt, blob.digest + ": shorter than its descriptor");
  }
  return bytes;
}

Result<oci::Manifest> DictManifest(ConvertContext& ctx, const oci::Platform& platform) {
  TRY(TopDocument top, ReadTop(*ctx.dict_store));
  if (!top.index) return std::move(*top.manifest);
  TRY(std::vector<oci::Descriptor> entries, SelectManifests(*top.index, platform));
  return ReadManifest(*ctx.dict_store, entries.front());
}

Status WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  TRY(std::unique_ptr<FileSink> sink, FileSink::Create(path));
  RETURN_IF_ERROR(sink->Write(bytes));
  return sink->Flush();
}

}  // namespace

Result<DictImage> LoadDict(ConvertContext& ctx, const oci::Platform& platform) {
  auto manifest = DictManifest(ctx, platform);
  if (!manifest) return manifest.error().Wrap("chunk dict " + ctx.dict_store->Describe());
  if (!oci::IsTesseraManifest(*manifest)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "chunk dict " + ctx.dict_store->Describe() + " is not a Tessera image");
  }
  DictImage dict;
  for (const oci::Descriptor& layer : manifest->layers) {
    if (oci::IsTesseraBlob(layer)) dict.blobs.emplace(layer.digest, layer);
    if (!oci::IsTesseraBootstrap(layer)) continue;
    TRY(std::vector<uint8_t> packed, ReadWholeBlob(*ctx.dict_store, layer));
    auto bootstrap = oci::UnpackBootstrapLayer(packed);
    if (!bootstrap) return bootstrap.error().Wrap("chunk dict bootstrap layer " + layer.digest);
    {
      std::lock_guard lock(ctx.mu);
      dict.bootstrap_path = ctx.work_dir + "/dict-" + std::to_string(ctx.next_file++) + ".boot";
    }
    RETURN_IF_ERROR(WriteFile(dict.bootstrap_path, *bootstrap));
  }
  if (dict.bootstrap_path.empty()) {
    return MakeError(ErrorCode::kCorrupt,
                     "chunk dict " + ctx.dict_store->Describe() + ": no bootstrap layer");
  }
  return dict;
}

}  // namespace tessera::builder::convert
