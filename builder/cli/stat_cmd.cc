// tessera-image stat: deduplication statistics across several bootstraps.
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {
namespace {

struct Hash {
  size_t operator()(const Sha256Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

struct ImageStat {
  std::string path;
  uint64_t chunks = 0, chunk_bytes = 0, new_chunks = 0, new_bytes = 0, blob_bytes = 0;
};

}  // namespace

int RunStat(int argc, char** argv) {
  CLI::App app{
      "Deduplication statistics across bootstraps, in the order given: for each, how "
      "many of its stored chunks (and bytes) the earlier ones did not already hold.",
      "tessera-image stat"};
  std::vector<std::string> bootstraps;
  bool json = false;
  app.add_option("BOOTSTRAP", bootstraps, "bootstraps")->required()->check(CLI::ExistingFile);
  app.add_flag("--json", json, "print JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::unordered_set<Sha256Digest, Hash> seen;
  std::unordered_set<Sha256Digest, Hash> blobs_seen;
  std::vector<ImageStat> stats;
  uint64_t total_bytes = 0, unique_bytes = 0;
  for (const auto& path : bootstraps) {
    auto image = Image::Open(path);
    if (!image) return Fail("stat", image.error());
    ImageStat s;
    s.path = path;
    const auto& t = (*image)->tables();
    for (const auto& blob : t.blobs) {
      if (blobs_seen.insert(blob.id).second) s.blob_bytes += blob.compressed_size;
    }
    for (const auto& c : t.chunks) {
      ++s.chunks;
      s.chunk_bytes += c.size;
      if (seen.insert(c.digest).second) {
        ++s.new_chunks;
        s.new_bytes += c.size;
      }
    }
    total_bytes += s.chunk_bytes;
    unique_bytes += s.new_bytes;
    stats.push_back(s);
  }
  if (json) {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& s : stats) {
      images.push_back({{"bootstrap", s.path},
                        {"chunks", s.chunks},
                        {"chunk_bytes", s.chunk_bytes},
                        {"new_chunks", s.new_chunks},
                        {"new_bytes", s.new_bytes},
                        {"new_blob_bytes", s.blob_bytes}});
    }
    nlohmann::json j = {{"images", images},
                        {"total_chunk_bytes", total_bytes},
                        {"unique_chunk_bytes", unique_bytes},
                        {"unique_chunks", seen.size()}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  for (const auto& s : stats) {
    std::printf("%s: %llu chunks (%s), %llu not in earlier images (%s), new blobs %s\n",
                s.path.c_str(), static_cast<unsigned long long>(s.chunks),
                HumanBytes(s.chunk_bytes).c_str(), static_cast<unsigned long long>(s.new_chunks),
                HumanBytes(s.new_bytes).c_str(), HumanBytes(s.blob_bytes).c_str());
  }
  std::printf("total: %s in chunks, %s unique (%zu chunks), dedup ratio %.2f\n",
              HumanBytes(total_bytes).c_str(), HumanBytes(unique_bytes).c_str(), seen.size(),
              unique_bytes == 0 ? 1.0 : static_cast<double>(total_bytes) / unique_bytes);
  return 0;
}

}  // namespace tessera::builder::cli
