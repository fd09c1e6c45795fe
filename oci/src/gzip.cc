#include "gzip.h"

#include <zlib.h>

#include <algorithm>

namespace tessera::oci::internal {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib: 16 selects the gzip wrapper

class Inflater {
 public:
  Inflater() { ok_ = inflateInit2(&z_, kGzipWindowBits) == Z_OK; }
  ~Inflater() {
    if (ok_) inflateEnd(&z_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  bool ok() const { return ok_; }
  z_stream* z() { return &z_; }

 private:
  z_stream z_{};
  bool ok_ = false;
};

Error Corrupt(const char* what) {
  return MakeError(ErrorCode::kCorrupt, std::string("gzip: ") + what);
}

}  // namespace

bool IsGzip(std::span<const uint8_t> data) {
  return data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

std::vector<uint8_t> GzipCompress(std::span<const uint8_t> data) {
  z_stream z{};
  // Level 9, default memory: the output depends only on the input and zlib's version.
  if (deflateInit2(&z, 9, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::vector<uint8_t> out(deflateBound(&z, data.size()) + 64);
  z.next_in = const_cast<Bytef*>(data.data());  // SAFETY: zlib does not write to next_in.
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return {};
  out.resize(produced);
  return out;
}

Result<std::vector<uint8_t>> GzipDecompress(std::span<const uint8_t> data, size_t max_output) {
  Inflater inf;
  if (!inf.ok()) return MakeError(ErrorCode::kInternal, "gzip: inflateInit failed");
  z_stream* z = inf.z();
  z->next_in = const_cast<Bytef*>(data.data());  // SAFETY: zlib does not write to next_in.
  z->avail_in = static_cast<uInt>(std::min<size_t>(data.size(), UINT32_MAX));
  std::vector<uint8_t> out;
  uint8_t buf[64 * 1024];
  while (true) {
    z->next_out = buf;
    z->avail_out = sizeof(buf);
    int rc = inflate(z, Z_NO_FLUSH);
    size_t produced = sizeof(buf) - z->avail_out;
    if (out.size() + produced > max_output) {
      return MakeError(ErrorCode::kTooLarge,
                       "gzip: more than " + std::to_string(max_output) + " bytes decompressed");
    }
    out.insert(out.end(), buf, buf + produced);
    if (rc == Z_STREAM_END) {
      if (z->avail_in == 0) return out;
      if (z->avail_in < 2 || z->next_in[0] != 0x1f || z->next_in[1] != 0x8b) {
        return Corrupt("trailing bytes after the last member");
      }
      if (inflateReset(z) != Z_OK) return Corrupt("reset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && produced == 0) return Corrupt("truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Corrupt("damaged stream");
  }
}

}  // namespace tessera::oci::internal
