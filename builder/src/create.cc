// CreateLayer: directory or tar -> blob + bootstrap.
#include "tessera/builder/create.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "bootstrap/bootstrap_writer.h"
#include "content/source_stream.h"
#include "layer/layer_store.h"
#include "tar/tar_import.h"

#include "tessera/builder/dir_loader.h"
#include "tessera/common/io.h"

namespace tessera::builder {
namespace {

using LoadFn = std::function<Result<erofs::Tree>(LayerStore&, CreateSummary&)>;

// Chunks every regular file of a directory tree (each inode once, in node order).
Status IngestTree(erofs::Tree& tree, LayerStore& store, const CreateOptions& options,
                  uint64_t total, CreateSummary& summary) {
  uint64_t done = 0;
  for (erofs::NodeId id = 0; id < tree.size(); ++id) {
    erofs::Node& node = tree.node(id);
    if (!S_ISREG(node.mode)) continue;
    ++summary.regular_files;
    if (!node.data || node.size == 0) continue;
    std::shared_ptr<const ByteSource> source = node.data;
    SourceStream stream(*source);
    TRY(StoredContent content, store.Ingest(stream, node.size, "file #" + std::to_string(id)));
    ApplyContent(node, std::move(content));
    done += node.size;
    if (options.progress) options.progress(done, total);
  }
  return Ok();
}

// Passes a stream through, reporting the bytes read so far (tar progress).
class CountingStream final : public ByteStream {
 public:
  CountingStream(ByteStream& in, const CreateOptions& options, uint64_t total)
      : in_(in), options_(options), total_(total) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    TRY(size_t n, in_.Read(out));
    done_ += n;
    if (options_.progress) options_.progress(done_, total_);
    return n;
  }

 private:
  ByteStream& in_;
  const CreateOptions& options_;
  uint64_t total_;
  uint64_t done_ = 0;
};

Result<erofs::Tree> ImportStream(ByteStream& in, const std::string& name, uint64_t total,
                                 LayerStore& store, const CreateOptions& options,
                                 CreateSummary& summary) {
  erofs::Tree tree;
  CountingStream counted(in, options, total);
  TRY(TarImportStats stats, ImportTar(counted, name, tree, store));
  summary.entries = stats.entries;
  summary.regular_files = stats.regular_files;
  return tree;
}

Result<erofs::Tree> LoadSource(const std::string& source, LayerStore& store,
                               const CreateOptions& options, CreateSummary& summary) {
  struct stat st {};
  if (source != "-" && ::stat(source.c_str(), &st) != 0) return ErrnoError(errno, source);
  if (source != "-" && S_ISDIR(st.st_mode)) {
    DirLoadStats stats;
    TRY(erofs::Tree tree, LoadDirectory(source, DirLoadOptions{}, &stats));
    summary.entries = stats.files;
    RETURN_IF_ERROR(IngestTree(tree, store, options, stats.data_bytes, summary));
    return tree;
  }
  if (source == "-") {
    FdStream stream(0, "stdin");
    return ImportStream(stream, source, 0, store, options, summary);
  }
  TRY(UniqueFd fd, UniqueFd::Open(source, O_RDONLY));
  FdStream stream(std::move(fd), source);
  return ImportStream(stream, source, static_cast<uint64_t>(st.st_size), store, options, summary);
}

void FillSummary(const LayerResult& result, CreateSummary& summary) {
  const LayerStats& s = result.stats;
  summary.bytes_in = s.bytes_in;
  summary.chunks = s.chunks;
  summary.unique_chunks = s.unique_chunks;
  summary.layer_dedup = s.layer_dedup;
  summary.dict_dedup = s.dict_dedup;
  summary.zero_chunks = s.zero_chunks;
  summary.stored_bytes = s.stored_bytes;
  if (!result.tables.blobs.empty()) {
    summary.blob_id = result.tables.blobs[0].IdHex();
    summary.blob_bytes = result.tables.blobs[0].compressed_size;
  }
}

// The steps every source shares: dictionary, layer store, load, blob, bootstrap, summary.
Result<CreateSummary> BuildLayer(const CreateOptions& options, const LoadFn& load) {
  auto start = std::chrono::steady_clock::now();
  ChunkDict dict;
  for (const auto& path : options.chunk_dicts) RETURN_IF_ERROR(dict.AddBootstrap(path));
  LayerOptions layer;
  layer.chunking = options.chunking;
  layer.inline_threshold = options.inline_threshold;
  layer.blob.codec = options.codec;
  layer.blob.level = options.compression_level;
  layer.blob.frame_size = options.frame_size;
  layer.blob.threads = options.threads;
  layer.blob_dir = options.blob_dir;
  layer.dict = options.chunk_dicts.empty() ? nullptr : &dict;
  TRY(auto store, LayerStore::Create(layer));

  CreateSummary summary;
  TRY(erofs::Tree tree, load(*store, summary));
  TRY(LayerResult result, store->Finish());
  std::vector<erofs::NodeId> prefetch;
  for (const auto& path : options.prefetch_paths) {
    auto node = tree.Find(path);
    if (!node) return MakeError(ErrorCode::kNotFound, "prefetch list: no '" + path + "' in source");
    prefetch.push_back(*node);
  }
  TRY(summary.bootstrap_bytes,
      WriteBootstrap(tree, result.tables, options.bootstrap, options.build_time, prefetch));
  FillSummary(result, summary);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace

Result<CreateSummary> CreateLayer(const std::string& source, const CreateOptions& options) {
  return BuildLayer(options, [&](LayerStore& store, CreateSummary& summary) {
    return LoadSource(source, store, options, summary);
  });
}

Result<CreateSummary> CreateLayerFromStream(ByteStream& in, const std::string& name, uint64_t total,
                                            const CreateOptions& options) {
  return BuildLayer(options, [&](LayerStore& store, CreateSummary& summary) {
    return ImportStream(in, name, total, store, options, summary);
  });
}

}  // namespace tessera::builder
