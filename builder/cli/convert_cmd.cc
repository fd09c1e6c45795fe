// tessera-image convert: an OCI image (layout or registry) -> a Tessera image.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/convert.h"

namespace tessera::builder::cli {
namespace {

struct ConvertArgs {
  std::string source, target, platform, chunk_dict, work_dir;
  std::string chunking = "fixed", chunk_size = "1M", compression = "zstd", frame_size = "256K";
  std::string inline_threshold = "512";
  int level = -1;
  size_t threads = 0, parallel = 2;
  int64_t timestamp = 0;
  bool plain_http = false, json = false, quiet = false;
};

void AddOptions(CLI::App& app, ConvertArgs& a) {
  app.add_option("--source", a.source, "image to convert: oci:DIR[:tag] or a registry reference")
      ->required();
  app.add_option("--target", a.target, "where to store the Tessera image (same forms)")->required();
  app.add_flag("--plain-http", a.plain_http, "talk http:// to (loopback) registries");
  app.add_option("--platform", a.platform, "convert only this platform (os/arch[/variant])");
  app.add_option("--chunk-dict", a.chunk_dict,
                 "an earlier converted image: its chunks are reused, not stored again");
  app.add_option("--chunking", a.chunking, "fixed or cdc (content-defined)")
      ->check(CLI::IsMember({"fixed", "cdc"}))
      ->capture_default_str();
  app.add_option("--chunk-size", a.chunk_size, "fixed chunk size (cdc: largest chunk)")
      ->capture_default_str();
  app.add_option("--compression", a.compression, "zstd, lz4 or none")
      ->check(CLI::IsMember({"zstd", "lz4", "none"}))
      ->capture_default_str();
  app.add_option("--compression-level", a.level, "zstd 1..22 (default 3), lz4 0..12");
  app.add_option("--frame-size", a.frame_size,
                 "small chunks are compressed together up to this (smaller than create's 1M "
                 "default: a lazy reader fetches whole frames)")
      ->capture_default_str();
  app.add_option("--inline-threshold", a.inline_threshold,
                 "files up to this size live in the bootstrap")
      ->capture_default_str();
  app.add_option("--threads", a.threads, "compression threads per layer (0: one per core)");
  app.add_option("--parallel-layers", a.parallel, "layers converted at the same time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--work-dir", a.work_dir, "parent of the temporary work directory")
      ->check(CLI::ExistingDirectory);
  app.add_option("-T,--timestamp", a.timestamp, "bootstrap time (default 0, reproducible)");
  app.add_flag("--json", a.json, "print the summary as JSON");
  app.add_flag("-q,--quiet", a.quiet, "no progress or summary text");
}

Result<ConvertOptions> ToOptions(const ConvertArgs& a) {
  ConvertOptions o;
  o.source = a.source;
  o.target = a.target;
  o.platform = a.platform;
  o.chunk_dict = a.chunk_dict;
  o.plain_http = a.plain_http;
  o.work_dir = a.work_dir;
  o.parallel_layers = a.parallel;
  TRY(uint64_t chunk, ParseSize(a.chunk_size));
  if (chunk > (16u << 20)) {
    return MakeError(ErrorCode::kInvalidArgument, "--chunk-size: at most 16M");
  }
  if (a.chunking == "cdc") {
    o.layer.chunking.mode = ChunkingMode::kCdc;
    o.layer.chunking.max_size = static_cast<uint32_t>(chunk);
  } else {
    o.layer.chunking.chunk_size = static_cast<uint32_t>(chunk);
  }
  TRY(uint64_t frame, ParseSize(a.frame_size));
  if (frame < 4096 || frame > (16u << 20)) {
    return MakeError(ErrorCode::kInvalidArgument, "--frame-size: 4K..16M");
  }
  o.layer.frame_size = static_cast<uint32_t>(frame);
  TRY(uint64_t inline_max, ParseSize(a.inline_threshold));
  if (inline_max > (1u << 20)) {
    return MakeError(ErrorCode::kInvalidArgument, "--inline-threshold: at most 1M");
  }
  o.layer.inline_threshold = static_cast<uint32_t>(inline_max);
  TRY(o.layer.codec, ParseCodec(a.compression));
  o.layer.compression_level = a.level >= 0 ? a.level : (o.layer.codec == Codec::kLz4 ? 0 : 3);
  o.layer.threads = a.threads;
  o.layer.build_time = a.timestamp;
  return o;
}

// Per-layer progress on a terminal: a live line while bytes flow, one line per finished layer.
class LayerProgress {
 public:
  explicit LayerProgress(bool enabled) : enabled_(enabled && ::isatty(2)) {}
  void operator()(const ConvertProgress& p) {
    if (!enabled_) return;
    using Phase = ConvertProgress::Phase;
    const bool upload = p.phase == Phase::kUpload || p.phase == Phase::kUploaded;
    std::string head = "[" + p.platform + "] " + (upload ? "blob " : "layer ") +
                       std::to_string(p.layer + 1) + "/" + std::to_string(p.layers) + " " +
                       p.digest.substr(0, 19);
    if (p.phase == Phase::kConverted || p.phase == Phase::kUploaded) {
      const char* what = p.phase == Phase::kConverted ? "converted"
                         : p.skipped                  ? "already in target"
                                                      : "uploaded";
      std::fprintf(stderr, "\r\033[K%s: %s (%s)\n", head.c_str(), what,
                   HumanBytes(p.total).c_str());
      return;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    if (now - last_ms_ < 200) return;
    last_ms_ = now;
    std::fprintf(stderr, "\r\033[K%s: %s %s / %s", head.c_str(), upload ? "sending" : "reading",
                 HumanBytes(p.done).c_str(), HumanBytes(p.total).c_str());
  }

 private:
  bool enabled_;
  int64_t last_ms_ = 0;
};

double DedupRatio(const ConvertSummary& s) {
  return s.chunks == 0 ? 1.0
                       : static_cast<double>(s.chunks) / std::max<uint64_t>(1, s.stored_chunks);
}

nlohmann::json ToJson(const ConvertSummary& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const ConvertedLayer& l : s.layers) {
    layers.push_back({{"platform", l.platform},
                      {"source_digest", l.source_digest},
                      {"source_bytes", l.source_bytes},
                      {"blob_digest", l.blob_digest},
                      {"blob_bytes", l.blob_bytes},
                      {"bytes_in", l.create.bytes_in},
                      {"chunks", l.create.chunks},
                      {"dict_dedup", l.create.dict_dedup},
                      {"seconds", l.create.seconds}});
  }
  return {{"digest", s.digest},
          {"media_type", s.media_type},
          {"platforms", s.platforms},
          {"layers", layers},
          {"source_bytes", s.source_bytes},
          {"bytes_in", s.bytes_in},
          {"target_bytes", s.target_bytes},
          {"uploaded_bytes", s.uploaded_bytes},
          {"uploaded_blobs", s.uploaded_blobs},
          {"existing_blobs", s.existing_blobs},
          {"chunks", s.chunks},
          {"stored_chunks", s.stored_chunks},
          {"layer_dedup", s.layer_dedup},
          {"dict_dedup", s.dict_dedup},
          {"stored_bytes", s.stored_bytes},
          {"dict_blobs", s.dict_blobs},
          {"dedup_ratio", DedupRatio(s)},
          {"seconds", s.seconds}};
}

void PrintSummary(const ConvertSummary& s, const std::string& target) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::string platforms;
  for (const auto& p : s.platforms) platforms += (platforms.empty() ? "" : ", ") + p;
  std::printf("source       %zu layers (%s), %s compressed, %s of files\n", s.layers.size(),
              platforms.c_str(), HumanBytes(s.source_bytes).c_str(),
              HumanBytes(s.bytes_in).c_str());
  std::printf(
      "chunks       %llu cut, %llu stored, %llu deduplicated in layer, %llu from chunk dict "
      "(dedup ratio %.2f)\n",
      u(s.chunks), u(s.stored_chunks), u(s.layer_dedup), u(s.dict_dedup), DedupRatio(s));
  std::printf("target       %s of layers; uploaded %llu blobs (%s), %llu already there",
              HumanBytes(s.target_bytes).c_str(), u(s.uploaded_blobs),
              HumanBytes(s.uploaded_bytes).c_str(), u(s.existing_blobs));
  if (s.dict_blobs > 0) std::printf("; %llu chunk dict blobs referenced", u(s.dict_blobs));
  std::printf("\nresult       %s %s\n", target.c_str(), s.digest.c_str());
  std::printf("time         %.2f s\n", s.seconds);
}

}  // namespace

int RunConvert(int argc, char** argv) {
  CLI::App app{
      "Converts an OCI image (layout or registry, one platform or an index) into a Tessera "
      "image: one blob layer per layer plus a bootstrap layer.",
      "tessera-image convert"};
  ConvertArgs args;
  AddOptions(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto options = ToOptions(args);
  if (!options) {
    std::fprintf(stderr, "tessera-image convert: %s\n", options.error().ToString().c_str());
    return 2;
  }
  LayerProgress progress(!args.quiet && !args.json);
  options->progress = [&progress](const ConvertProgress& p) { progress(p); };
  auto summary = ConvertImage(*options);
  if (!summary) return Fail("convert", summary.error());
  if (args.json) {
    std::printf("%s\n", ToJson(*summary).dump(2).c_str());
  } else if (!args.quiet) {
    PrintSummary(*summary, args.target);
  }
  return 0;
}

}  // namespace tessera::builder::cli
