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
  erofs::Tree tree;
  std::unique_ptr<FdStream> stream;
  if (source == "-") {
    stream = std::make_unique<FdStream>(0, "stdin");
  } else {
    TRY(UniqueFd fd, UniqueFd::Open(source, O_RDONLY));
    stream = std::make_unique<FdStream>(std::move(fd), source);
  }
  TRY(TarImportStats stats, ImportTar(*stream, source, tree, store));
  summary.entries = stats.entries;
  summary.regular_files = stats.regular_files;
  return tree;
}

}  // namespace

Result<CreateSummary> CreateLayer(const std::string& source, const CreateOptions& options) {
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
  TRY(erofs::Tree tree, LoadSource(source, *store, options, summary));
  TRY(LayerResult result, store->Finish());
  std::vector<erofs::NodeId> prefetch;
  for (const auto& path : options.prefetch_paths) {
    auto node = tree.Find(path);
    if (!node) return MakeError(ErrorCode::kNotFound, "prefetch list: no '" + path + "' in source");
    prefetch.push_back(*node);
  }
  TRY(summary.bootstrap_bytes,
      WriteBootstrap(tree, result.tables, options.bootstrap, options.build_time, prefetch));

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
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace tessera::builder
