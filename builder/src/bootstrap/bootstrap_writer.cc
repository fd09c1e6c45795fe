#include "bootstrap/bootstrap_writer.h"

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "tessera/common/io.h"
#include "tessera/erofs/writer.h"

namespace tessera::builder {

Result<uint64_t> WriteBootstrap(const erofs::Tree& tree, const storage::BootstrapTables& tables,
                                const std::string& path, int64_t build_time,
                                const std::vector<erofs::NodeId>& prefetch) {
  erofs::WriterOptions opts;
  opts.build_time = build_time;
  opts.volume_name = "tessera";
  for (const storage::BlobInfo& blob : tables.blobs) {
    erofs::DeviceInfo dev;
    dev.tag = blob.IdHex();
    dev.blocks = static_cast<uint32_t>(blob.raw_size / storage::kBlockSize);
    opts.devices.push_back(dev);
  }
  opts.sb_extension_size = storage::kExtensionSize;
  // The prefetch table needs nids, known only once the writer has laid the tree out: the
  // trailer is encoded with placeholders and rewritten (same size) from the nids.
  storage::BootstrapTables final_tables = tables;
  final_tables.prefetch.assign(prefetch.size(), 0);
  std::vector<uint8_t> trailer = storage::EncodeTables(final_tables);
  opts.trailer = trailer;
  opts.patch_trailer = [&](std::span<const uint64_t> nids, std::span<uint8_t> out) {
    for (size_t i = 0; i < prefetch.size(); ++i) final_tables.prefetch[i] = nids[prefetch[i]];
    trailer = storage::EncodeTables(final_tables);
    std::copy(trailer.begin(), trailer.end(), out.begin());
  };
  opts.fill_extension = [&](uint64_t trailer_offset, std::span<uint8_t> ext) {
    storage::FillExtension(final_tables, trailer_offset, trailer, ext);
  };
  std::string tmp = path + ".tmp";
  TRY(auto sink, FileSink::Create(tmp));
  auto stats = erofs::WriteImage(tree, opts, *sink);
  if (!stats) {
    ::unlink(tmp.c_str());
    return stats.error().Wrap("bootstrap " + path);
  }
  RETURN_IF_ERROR(sink->Sync());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename to " + path);
  return stats->image_size;
}

}  // namespace tessera::builder
