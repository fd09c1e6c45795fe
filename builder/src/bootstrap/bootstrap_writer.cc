#include "bootstrap/bootstrap_writer.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include "tessera/common/io.h"
#include "tessera/erofs/writer.h"

namespace tessera::builder {

Result<uint64_t> WriteBootstrap(const erofs::Tree& tree, const storage::BootstrapTables& tables,
                                const std::string& path, int64_t build_time) {
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
  opts.trailer = storage::EncodeTables(tables);
  const std::vector<uint8_t>& trailer = opts.trailer;
  opts.fill_extension = [&tables, &trailer](uint64_t trailer_offset, std::span<uint8_t> ext) {
    storage::FillExtension(tables, trailer_offset, trailer, ext);
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
