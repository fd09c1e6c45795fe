#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include "tessera/builder/image.h"

namespace tessera::builder {
namespace {

Status ExportOne(const Image& image, uint32_t blob, const std::string& path, uint64_t& written,
                 uint64_t total, const std::function<void(uint64_t, uint64_t)>& progress) {
  const storage::BootstrapTables& t = image.tables();
  const ByteSource& device = *image.devices()[blob];
  std::string tmp = path + ".tmp";
  TRY(UniqueFd fd, UniqueFd::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  if (::ftruncate(fd.get(), static_cast<off_t>(t.blobs[blob].raw_size)) != 0) {
    return ErrnoError(errno, "truncate " + tmp);
  }
  std::vector<uint8_t> buf;
  for (const storage::ExtentEntry& e : t.DeviceExtents(blob)) {
    buf.resize(e.size);
    RETURN_IF_ERROR(device.ReadAt(e.raw_offset, buf));
    RETURN_IF_ERROR(PwriteFull(fd.get(), buf, e.raw_offset, tmp));
    written += e.size;
    if (progress) progress(written, total);
  }
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "fsync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename " + tmp);
  return Ok();
}

}  // namespace

Result<ExportResult> ExportRawDevices(const Image& image, const std::string& out_dir,
                                      const std::function<void(uint64_t, uint64_t)>& progress) {
  const storage::BootstrapTables& t = image.tables();
  if (image.devices().size() != t.blobs.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "export: no blobs attached");
  }
  uint64_t total = 0;
  for (const auto& e : t.extents) total += e.size;
  ExportResult result;
  for (uint32_t b = 0; b < t.blobs.size(); ++b) {
    std::string path = out_dir + "/" + t.blobs[b].IdHex() + ".raw";
    RETURN_IF_ERROR(ExportOne(image, b, path, result.bytes_written, total, progress));
    result.raw_paths.push_back(path);
  }
  return result;
}

}  // namespace tessera::builder
