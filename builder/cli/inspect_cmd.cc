// tessera-image inspect: superblock, blob table, counts and chunk statistics of a bootstrap.
#include <sys/stat.h>

#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tessera/builder/image.h"

namespace tessera::builder::cli {
namespace {

struct Counts {
  uint64_t inodes = 0, dirs = 0, files = 0, symlinks = 0, others = 0;
  uint64_t chunked_files = 0, inline_files = 0, file_bytes = 0, chunk_refs = 0, holes = 0;
};

Result<Counts> CountTree(const erofs::Reader& reader) {
  Counts c;
  RETURN_IF_ERROR(reader.Walk(
      [&](const std::string&, const erofs::DirEntry&, const erofs::InodeInfo& inode) -> Status {
        ++c.inodes;
        if (S_ISDIR(inode.mode))
          ++c.dirs;
        else if (S_ISLNK(inode.mode))
          ++c.symlinks;
        else if (!S_ISREG(inode.mode))
          ++c.others;
        if (!S_ISREG(inode.mode)) return Ok();
        ++c.files;
        c.file_bytes += inode.size;
        if (inode.layout != erofs::DataLayout::kChunkBased) {
          ++c.inline_files;
          return Ok();
        }
        ++c.chunked_files;
        TRY(erofs::ChunkMap map, reader.GetChunkMap(inode.nid));
        for (const auto& ref : map.chunks) {
          ++c.chunk_refs;
          if (ref.blkaddr == erofs::kNullAddr) ++c.holes;
        }
        return Ok();
      }));
  return c;
}

nlohmann::json BlobsJson(const storage::BootstrapTables& t) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const auto& b : t.blobs) {
    uint64_t uncompressed = 0;
    for (uint32_t f = 0; f < b.frame_count; ++f)
      uncompressed += t.frames[b.first_frame + f].uncompressed_size;
    blobs.push_back({{"id", b.IdHex()},
                     {"compressed_size", b.compressed_size},
                     {"uncompressed_size", uncompressed},
                     {"raw_size", b.raw_size},
                     {"chunks", b.chunk_count},
                     {"frames", b.frame_count},
                     {"extents", b.extent_count}});
  }
  return blobs;
}

}  // namespace

int RunInspect(int argc, char** argv) {
  CLI::App app{"Prints a bootstrap's superblock, blob table, counts and chunk statistics.",
               "tessera-image inspect"};
  std::string bootstrap;
  bool json = false;
  app.add_option("--bootstrap", bootstrap, "bootstrap to inspect")->required();
  app.add_flag("--json", json, "print JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto image = Image::Open(bootstrap);
  if (!image) return Fail("inspect", image.error());
  auto counts = CountTree((*image)->reader());
  if (!counts) return Fail("inspect", counts.error());
  const auto& sb = (*image)->reader().super();
  const auto& t = (*image)->tables();
  nlohmann::json j = {{"bootstrap",
                       {{"path", bootstrap},
                        {"size", (*image)->size()},
                        {"block_size", sb.block_size},
                        {"root_nid", sb.root_nid},
                        {"inodes", sb.inos},
                        {"feature_incompat", sb.feature_incompat},
                        {"chunk_size", t.chunk_size}}},
                      {"blobs", BlobsJson(t)},
                      {"counts",
                       {{"inodes", counts->inodes},
                        {"directories", counts->dirs},
                        {"regular_files", counts->files},
                        {"symlinks", counts->symlinks},
                        {"other", counts->others},
                        {"file_bytes", counts->file_bytes},
                        {"chunked_files", counts->chunked_files},
                        {"inline_files", counts->inline_files},
                        {"chunk_refs", counts->chunk_refs},
                        {"holes", counts->holes},
                        {"stored_chunks", t.chunks.size()},
                        {"extents", t.extents.size()},
                        {"prefetch", t.prefetch.size()}}}};
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("bootstrap  %s (%s), %llu inodes, chunk size %s\n", bootstrap.c_str(),
              HumanBytes((*image)->size()).c_str(), static_cast<unsigned long long>(sb.inos),
              HumanBytes(t.chunk_size).c_str());
  for (const auto& b : j["blobs"]) {
    std::printf("blob       %s  %s compressed, %s stored, %llu chunks\n",
                b["id"].get<std::string>().c_str(),
                HumanBytes(b["compressed_size"].get<uint64_t>()).c_str(),
                HumanBytes(b["uncompressed_size"].get<uint64_t>()).c_str(),
                static_cast<unsigned long long>(b["chunks"].get<uint64_t>()));
  }
  std::printf(
      "tree       %llu dirs, %llu files (%llu chunked, %llu inline, %s), %llu symlinks, "
      "%llu other\n",
      static_cast<unsigned long long>(counts->dirs), static_cast<unsigned long long>(counts->files),
      static_cast<unsigned long long>(counts->chunked_files),
      static_cast<unsigned long long>(counts->inline_files), HumanBytes(counts->file_bytes).c_str(),
      static_cast<unsigned long long>(counts->symlinks),
      static_cast<unsigned long long>(counts->others));
  std::printf("chunks     %llu references, %llu holes, %zu stored, %zu extents\n",
              static_cast<unsigned long long>(counts->chunk_refs),
              static_cast<unsigned long long>(counts->holes), t.chunks.size(), t.extents.size());
  return 0;
}

}  // namespace tessera::builder::cli
