// Converting the layers of one manifest: each source layer is streamed into the builder, a
// bounded number at a time; identical source layers are converted once.
#include <atomic>
#include <functional>
#include <thread>

#include "convert/convert_internal.h"

namespace tessera::builder::convert {
namespace {

// Reads what is left of a stream, so that a verifying stream checks size and digest even when
// the archive ended before the stream did (tar padding, compressed trailers).
Status Drain(ByteStream& in) {
  std::vector<uint8_t> buffer(64 << 10);
  for (;;) {
    TRY(size_t n, in.Read(buffer));
    if (n == 0) return Ok();
  }
}

Result<LayerOutput> ConvertOne(ConvertContext& ctx, const oci::Descriptor& layer, size_t index,
                               size_t count, const std::string& platform, const DictImage* dict) {
  const std::string key = layer.digest + "|" + (dict != nullptr ? dict->bootstrap_path : "");
  uint64_t id = 0;
  {
    std::lock_guard lock(ctx.mu);
    auto it = ctx.layer_cache.find(key);
    if (it != ctx.layer_cache.end()) return it->second;
    id = ctx.next_file++;
  }
  CreateOptions options = ctx.options.layer;
  options.bootstrap = ctx.work_dir + "/layer-" + std::to_string(id) + ".boot";
  options.blob_dir = ctx.blob_dir;
  options.chunk_dicts.clear();
  if (dict != nullptr) options.chunk_dicts.push_back(dict->bootstrap_path);
  ConvertProgress progress{
      ConvertProgress::Phase::kConvert, platform, index, count, layer.digest, 0, layer.size};
  options.progress = [&](uint64_t done, uint64_t) {
    progress.done = done;
    ctx.Report(progress);
  };
  ctx.Report(progress);
  TRY(std::unique_ptr<ByteStream> stream, ctx.source->OpenBlob(layer));
  TRY(CreateSummary created, CreateLayerFromStream(*stream, layer.digest, layer.size, options));
  RETURN_IF_ERROR(Drain(*stream));
  progress.phase = ConvertProgress::Phase::kConverted;
  progress.done = layer.size;
  ctx.Report(progress);
  LayerOutput out{options.bootstrap, created};
  std::lock_guard lock(ctx.mu);
  ctx.layer_cache.emplace(key, out);
  ConvertSummary& s = ctx.summary;
  s.source_bytes += layer.size;
  s.bytes_in += created.bytes_in;
  s.chunks += created.chunks;
  s.stored_chunks += created.unique_chunks;
  s.layer_dedup += created.layer_dedup;
  s.dict_dedup += created.dict_dedup;
  s.stored_bytes += created.stored_bytes;
  return out;
}

}  // namespace

Status ParallelFor(size_t count, size_t parallel, const std::function<Status(size_t)>& fn) {
  std::vector<std::optional<Error>> errors(count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (size_t i = next++; i < count && !failed; i = next++) {
      Status status = fn(i);
      if (!status) {
        errors[i] = std::move(status).error();
        failed = true;
      }
    }
  };
  const size_t workers = std::max<size_t>(1, std::min(parallel, count));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (auto& error : errors) {
    if (error) return std::move(*error);
  }
  return Ok();
}

Result<std::vector<LayerOutput>> ConvertLayers(ConvertContext& ctx, const oci::Manifest& manifest,
                                               const std::string& platform, const DictImage* dict) {
  const size_t count = manifest.layers.size();
  std::vector<LayerOutput> outputs(count);
  RETURN_IF_ERROR(ParallelFor(count, ctx.options.parallel_layers, [&](size_t i) -> Status {
    const oci::Descriptor& layer = manifest.layers[i];
    auto result = ConvertOne(ctx, layer, i, count, platform, dict);
    if (!result) {
      return result.error().Wrap(platform + ": layer " + std::to_string(i) + " (" + layer.digest +
                                 ")");
    }
    outputs[i] = std::move(*result);
    return Ok();
  }));
  return outputs;
}

}  // namespace tessera::builder::convert
