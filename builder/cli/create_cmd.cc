// tessera-image create: a directory or layer tar -> blob + bootstrap.
#include <cstdio>
#include <fstream>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/create.h"

namespace tessera::builder::cli {
namespace {

struct CreateArgs {
  std::string source, bootstrap, blob_dir, chunking = "fixed", compression = "zstd";
  std::string chunk_size = "1M", cdc_min = "64K", cdc_avg = "256K", cdc_max = "1M";
  std::string frame_size = "1M", inline_threshold = "512", prefetch_list;
  std::vector<std::string> chunk_dicts;
  int level = -1;  // -1: the codec's default (zstd 3, lz4 0 = fast)
  size_t threads = 0;
  int64_t timestamp = 0;
  bool json = false, quiet = false;
};

void AddOptions(CLI::App& app, CreateArgs& a) {
  app.add_option("SOURCE", a.source, "directory, layer tar (.tar/.tar.gz/.tar.zst) or - for stdin")
      ->required();
  app.add_option("--bootstrap", a.bootstrap, "bootstrap to write")->required();
  app.add_option("--blob-dir", a.blob_dir, "directory for the blob (named by its sha256)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--chunking", a.chunking, "fixed or cdc (content-defined)")
      ->check(CLI::IsMember({"fixed", "cdc"}))
      ->capture_default_str();
  app.add_option("--chunk-size", a.chunk_size, "fixed chunk size, power of two, 4K..16M")
      ->capture_default_str();
  app.add_option("--cdc-min", a.cdc_min, "cdc: smallest chunk")->capture_default_str();
  app.add_option("--cdc-avg", a.cdc_avg, "cdc: average chunk (power of two)")
      ->capture_default_str();
  app.add_option("--cdc-max", a.cdc_max, "cdc: largest chunk")->capture_default_str();
  app.add_option("--compression", a.compression, "zstd, lz4 or none")
      ->check(CLI::IsMember({"zstd", "lz4", "none"}))
      ->capture_default_str();
  app.add_option("--compression-level", a.level,
                 "zstd 1..22 (default 3), lz4 0 = fast (default) or 1..12 = HC");
  app.add_option("--frame-size", a.frame_size, "small chunks are compressed together up to this")
      ->capture_default_str();
  app.add_option("--inline-threshold", a.inline_threshold,
                 "files up to this size are kept in the bootstrap")
      ->capture_default_str();
  app.add_option("--chunk-dict", a.chunk_dicts, "earlier bootstrap whose chunks may be reused")
      ->check(CLI::ExistingFile);
  app.add_option("--prefetch-list", a.prefetch_list, "file of paths to prefetch, one a line")
      ->check(CLI::ExistingFile);
  app.add_option("--threads", a.threads, "compression threads (0: one per core)");
  app.add_option("-T,--timestamp", a.timestamp, "superblock time (default 0, reproducible)");
  app.add_flag("--json", a.json, "print the summary as JSON");
  app.add_flag("-q,--quiet", a.quiet, "no progress or summary text");
}

Result<CreateOptions> ToOptions(const CreateArgs& a) {
  CreateOptions o;
  o.bootstrap = a.bootstrap;
  o.blob_dir = a.blob_dir;
  o.chunking.mode = a.chunking == "cdc" ? ChunkingMode::kCdc : ChunkingMode::kFixed;
  TRY(uint64_t chunk, ParseSize(a.chunk_size));
  TRY(uint64_t cmin, ParseSize(a.cdc_min));
  TRY(uint64_t cavg, ParseSize(a.cdc_avg));
  TRY(uint64_t cmax, ParseSize(a.cdc_max));
  TRY(uint64_t frame, ParseSize(a.frame_size));
  TRY(uint64_t inline_max, ParseSize(a.inline_threshold));
  if (chunk > UINT32_MAX || cmax > UINT32_MAX || frame > UINT32_MAX || inline_max > (1 << 20)) {
    return MakeError(ErrorCode::kInvalidArgument, "a size option is out of range");
  }
  o.chunking.chunk_size = static_cast<uint32_t>(chunk);
  o.chunking.min_size = static_cast<uint32_t>(cmin);
  o.chunking.avg_size = static_cast<uint32_t>(cavg);
  o.chunking.max_size = static_cast<uint32_t>(cmax);
  o.frame_size = static_cast<uint32_t>(frame);
  o.inline_threshold = static_cast<uint32_t>(inline_max);
  TRY(o.codec, ParseCodec(a.compression));
  o.compression_level = a.level >= 0 ? a.level : (o.codec == Codec::kLz4 ? 0 : 3);
  o.threads = a.threads;
  o.build_time = a.timestamp;
  o.chunk_dicts = a.chunk_dicts;
  if (!a.prefetch_list.empty()) {
    std::ifstream in(a.prefetch_list);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#') o.prefetch_paths.push_back(line);
    }
  }
  return o;
}

void PrintSummary(const CreateSummary& s, bool json) {
  double dedup =
      s.chunks == 0 ? 1.0 : static_cast<double>(s.chunks) / std::max<uint64_t>(1, s.unique_chunks);
  if (json) {
    nlohmann::json j = {{"entries", s.entries},
                        {"regular_files", s.regular_files},
                        {"bytes_in", s.bytes_in},
                        {"chunks", s.chunks},
                        {"unique_chunks", s.unique_chunks},
                        {"layer_dedup", s.layer_dedup},
                        {"dict_dedup", s.dict_dedup},
                        {"zero_chunks", s.zero_chunks},
                        {"stored_bytes", s.stored_bytes},
                        {"blob_bytes", s.blob_bytes},
                        {"bootstrap_bytes", s.bootstrap_bytes},
                        {"blob_id", s.blob_id},
                        {"seconds", s.seconds}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("files        %llu entries, %llu regular files, %s of data\n",
              static_cast<unsigned long long>(s.entries),
              static_cast<unsigned long long>(s.regular_files), HumanBytes(s.bytes_in).c_str());
  std::printf(
      "chunks       %llu cut, %llu stored, %llu deduplicated in layer, %llu from dict, "
      "%llu zero (dedup ratio %.2f)\n",
      static_cast<unsigned long long>(s.chunks), static_cast<unsigned long long>(s.unique_chunks),
      static_cast<unsigned long long>(s.layer_dedup), static_cast<unsigned long long>(s.dict_dedup),
      static_cast<unsigned long long>(s.zero_chunks), dedup);
  std::printf("output       blob %s (%s), bootstrap %s; total %.1f%% of the input\n",
              s.blob_id.empty() ? "(none)" : s.blob_id.c_str(), HumanBytes(s.blob_bytes).c_str(),
              HumanBytes(s.bootstrap_bytes).c_str(),
              s.bytes_in == 0 ? 0.0 : 100.0 * (s.blob_bytes + s.bootstrap_bytes) / s.bytes_in);
  std::printf("time         %.2f s\n", s.seconds);
}

}  // namespace

int RunCreate(int argc, char** argv) {
  CLI::App app{"Turns a directory or an OCI layer tar into a Tessera blob and bootstrap.",
               "tessera-image create"};
  CreateArgs args;
  AddOptions(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto options = ToOptions(args);
  if (!options) return Fail("create", options.error());
  Progress progress("reading", !args.quiet && !args.json);
  options->progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  auto summary = CreateLayer(args.source, *options);
  if (!summary) return Fail("create", summary.error());
  if (!args.quiet) PrintSummary(*summary, args.json);
  return 0;
}

}  // namespace tessera::builder::cli
