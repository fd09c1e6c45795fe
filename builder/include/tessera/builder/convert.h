// Converting OCI images into Tessera images (`tessera-image convert`).
//
// The source (an OCI layout or a registry reference) is resolved to its manifest, or to every
// platform of an index. Each layer is streamed from the source into the builder (nothing is
// extracted to disk), a bounded number of layers at a time; the layer bootstraps are merged
// with overlay semantics, and the result is written to the target: one Tessera blob layer per
// blob, the bootstrap as the last layer, a rewritten config and a manifest (an index when the
// source was one), tagged only after everything else is stored (docs/format.md §4). With a
// chunk dictionary (an earlier converted image) only new chunks are stored, and the blobs of
// the dictionary the new image references travel with it as layers.
//
// Thread-safety: ConvertImage is reentrant; the progress callback is called from worker
// threads, one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/builder/create.h"
#include "tessera/common/result.h"

namespace tessera::builder {

// One progress report about one layer of one platform.
struct ConvertProgress {
  enum class Phase { kConvert, kConverted, kUpload, kUploaded };
  Phase phase = Phase::kConvert;
  std::string platform;  // "linux/amd64"
  size_t layer = 0;      // kConvert/kConverted: source layer index; kUpload*: target layer index
  size_t layers = 0;     // layers of that manifest
  std::string digest;    // the source layer (convert) or target blob (upload)
  uint64_t done = 0;     // bytes read / sent so far
  uint64_t total = 0;    // bytes to read / send, 0 if unknown
  bool skipped = false;  // kUploaded: the target already had it (or mounted it)
};

struct ConvertOptions {
  std::string source;       // "oci:DIR[:tag]" or a registry reference
  std::string target;       // the same forms
  std::string platform;     // "os/arch[/variant]": only that platform; empty: all
  std::string chunk_dict;   // an earlier converted image whose chunks are reused; may be empty
  bool plain_http = false;  // registries over http:// (loopback registries only)
  // Chunking, compression and threads for every layer; bootstrap, blob_dir, chunk_dicts and
  // progress are set per layer by the converter.
  CreateOptions layer;
  std::string work_dir;        // parent of the temporary work directory; empty: $TMPDIR or /tmp
  size_t parallel_layers = 2;  // layers converted at the same time (at least 1)
  std::function<void(const ConvertProgress&)> progress;
};

struct ConvertedLayer {
  std::string platform;
  std::string source_digest;
  uint64_t source_bytes = 0;  // compressed layer size in the source
  std::string blob_digest;    // "sha256:..." of its Tessera blob; empty if it needed none
  uint64_t blob_bytes = 0;
  CreateSummary create;
};

struct ConvertSummary {
  std::string digest;      // the manifest or index the target tag now names
  std::string media_type;  // its media type
  std::vector<std::string> platforms;
  std::vector<ConvertedLayer> layers;
  uint64_t source_bytes = 0;    // compressed bytes of the source layers read
  uint64_t bytes_in = 0;        // uncompressed regular-file bytes of those layers
  uint64_t target_bytes = 0;    // the target layers (blobs and bootstraps) of every manifest
  uint64_t uploaded_bytes = 0;  // bytes of blobs the target did not have before (configs too)
  uint64_t uploaded_blobs = 0;
  uint64_t existing_blobs = 0;  // blobs the target already had, or mounted: nothing sent
  uint64_t chunks = 0;          // chunks cut
  uint64_t stored_chunks = 0;   // chunks stored in new blobs
  uint64_t layer_dedup = 0;     // chunks found earlier in the same layer
  uint64_t dict_dedup = 0;      // chunks found in the chunk dictionary
  uint64_t stored_bytes = 0;    // uncompressed bytes of the stored chunks
  uint64_t dict_blobs = 0;      // dictionary blobs the new image references
  double seconds = 0;
};

// Converts options.source into options.target. Fails, naming the platform and layer digest,
// on a source that cannot be read or is not an image of tar layers (a Tessera image is refused),
// and leaves the target's tag untouched on any failure (blobs already stored stay: they are
// content-addressed and unreferenced).
Result<ConvertSummary> ConvertImage(const ConvertOptions& options);

}  // namespace tessera::builder
