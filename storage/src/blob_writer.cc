// BlobWriter: packs chunks into frames, compresses them on a pool, writes them in order.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <unordered_map>

#include "tessera/common/thread_pool.h"
#include "tessera/storage/blob.h"

namespace tessera::storage {
namespace {

struct DigestHash {
  size_t operator()(const Sha256Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

// A frame on its way to the file: raw bytes in, compressed bytes out (filled by a worker).
struct FrameJob {
  uint32_t index = 0;  // position in the blob's frame table
  std::vector<uint8_t> raw;
  std::vector<uint8_t> compressed;
  Codec codec = Codec::kNone;
  Status status;
  std::promise<void> done;
};

}  // namespace

struct BlobWriter::Impl {
  std::string dir;
  std::string tmp_path;
  BlobWriterOptions options;
  UniqueFd fd;
  uint64_t position = 0;
  Sha256 file_hash;
  ThreadPool pool;
  BlobMeta meta;
  std::unordered_map<Sha256Digest, uint32_t, DigestHash> by_digest;
  std::vector<uint8_t> pending;          // raw bytes of the shared frame being filled
  std::vector<uint32_t> pending_chunks;  // chunks in `pending`
  std::deque<std::pair<std::shared_ptr<FrameJob>, std::future<void>>> in_flight;
  bool finished = false;

  Impl(std::string d, std::string tmp, const BlobWriterOptions& o, UniqueFd f)
      : dir(std::move(d)),
        tmp_path(std::move(tmp)),
        options(o),
        fd(std::move(f)),
        pool(o.threads) {}

  Status WriteBytes(std::span<const uint8_t> data) {
    RETURN_IF_ERROR(PwriteFull(fd.get(), data, position, tmp_path));
    file_hash.Update(data);
    position += data.size();
    return Ok();
  }

  // Queues raw bytes holding the given chunks as the next frame.
  Status SealFrame(std::vector<uint8_t> raw, const std::vector<uint32_t>& chunk_ids) {
    if (raw.empty()) return Ok();
    auto job = std::make_shared<FrameJob>();
    job->index = static_cast<uint32_t>(meta.frames.size());
    job->raw = std::move(raw);
    for (uint32_t id : chunk_ids) meta.chunks[id].frame = job->index;
    meta.frames.push_back(FrameEntry{0, 0, static_cast<uint32_t>(job->raw.size()), Codec::kNone});
    std::future<void> fut = job->done.get_future();
    Codec codec = options.codec;
    int level = options.level;
    pool.Submit([job, codec, level] {
      if (codec != Codec::kNone) {
        auto packed = Compress(codec, job->raw, level);
        if (!packed) {
          job->status = packed.error();
        } else if (packed->size() < job->raw.size()) {
          job->compressed = std::move(*packed);
          job->codec = codec;
        }
      }
      job->done.set_value();
    });
    in_flight.emplace_back(std::move(job), std::move(fut));
    size_t limit = 2 * pool.size() + 1;
    while (in_flight.size() > limit) RETURN_IF_ERROR(WriteOldest());
    return Ok();
  }

  Status SealPending() {
    std::vector<uint8_t> raw = std::move(pending);
    pending.clear();
    std::vector<uint32_t> ids = std::move(pending_chunks);
    pending_chunks.clear();
    return SealFrame(std::move(raw), ids);
  }

  // Waits for the oldest queued frame and appends it to the file.
  Status WriteOldest() {
    auto [job, fut] = std::move(in_flight.front());
    in_flight.pop_front();
    fut.wait();
    RETURN_IF_ERROR(job->status);
    FrameEntry& entry = meta.frames[job->index];
    const std::vector<uint8_t>& bytes = job->codec == Codec::kNone ? job->raw : job->compressed;
    entry.compressed_offset = position;
    entry.compressed_size = static_cast<uint32_t>(bytes.size());
    entry.codec = job->codec;
    return WriteBytes(bytes);
  }
};

BlobWriter::BlobWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BlobWriter::~BlobWriter() {
  if (impl_ && !impl_->finished) {
    for (auto& [job, fut] : impl_->in_flight) fut.wait();
    ::unlink(impl_->tmp_path.c_str());
  }
}

Result<std::unique_ptr<BlobWriter>> BlobWriter::Create(const std::string& dir,
                                                       const BlobWriterOptions& options) {
  if (options.frame_size == 0 || options.frame_size > kMaxFrameSize) {
    return MakeError(ErrorCode::kInvalidArgument, "blob writer: frame size out of range");
  }
  std::string tmp = dir + "/.blob-XXXXXX";
  int raw_fd = ::mkstemp(tmp.data());
  if (raw_fd < 0) return ErrnoError(errno, "create temporary blob in " + dir);
  UniqueFd fd(raw_fd);
  return std::unique_ptr<BlobWriter>(
      new BlobWriter(std::make_unique<Impl>(dir, tmp, options, std::move(fd))));
}

std::optional<uint32_t> BlobWriter::Find(const Sha256Digest& digest) const {
  auto it = impl_->by_digest.find(digest);
  if (it == impl_->by_digest.end()) return std::nullopt;
  return it->second;
}

uint32_t BlobWriter::chunk_count() const {
  return static_cast<uint32_t>(impl_->meta.chunks.size());
}

Result<uint32_t> BlobWriter::AddChunk(std::span<const uint8_t> data, const Sha256Digest& digest) {
  Impl& m = *impl_;
  if (m.finished) return MakeError(ErrorCode::kInternal, "blob writer: AddChunk after Finish");
  if (data.empty() || data.size() > kMaxChunkSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "blob writer: chunk size " + std::to_string(data.size()) + " out of range");
  }
  if (auto existing = Find(digest)) return *existing;
  uint32_t index = static_cast<uint32_t>(m.meta.chunks.size());
  ChunkEntry entry;
  entry.digest = digest;
  entry.size = static_cast<uint32_t>(data.size());
  m.by_digest.emplace(digest, index);
  if (data.size() >= m.options.frame_size) {
    // A big chunk is a frame of its own; the shared frame being filled stays open.
    m.meta.chunks.push_back(entry);
    RETURN_IF_ERROR(m.SealFrame(std::vector<uint8_t>(data.begin(), data.end()), {index}));
    return index;
  }
  if (m.pending.size() + data.size() > m.options.frame_size) RETURN_IF_ERROR(m.SealPending());
  entry.frame_offset = static_cast<uint32_t>(m.pending.size());
  m.meta.chunks.push_back(entry);
  m.pending.insert(m.pending.end(), data.begin(), data.end());
  m.pending_chunks.push_back(index);
  return index;
}

Result<BlobResult> BlobWriter::Finish() {
  Impl& m = *impl_;
  if (m.finished) return MakeError(ErrorCode::kInternal, "blob writer: Finish called twice");
  RETURN_IF_ERROR(m.SealPending());
  while (!m.in_flight.empty()) RETURN_IF_ERROR(m.WriteOldest());

  BlobFooter footer;
  footer.frame_count = static_cast<uint32_t>(m.meta.frames.size());
  footer.chunk_count = static_cast<uint32_t>(m.meta.chunks.size());
  for (const auto& f : m.meta.frames) footer.uncompressed_bytes += f.uncompressed_size;
  std::vector<uint8_t> meta_raw = EncodeMeta(m.meta);
  footer.meta_digest = Sha256Of(meta_raw);
  footer.meta_uncompressed_size = meta_raw.size();
  footer.meta_codec = m.options.meta_codec;
  TRY(std::vector<uint8_t> meta_packed, Compress(m.options.meta_codec, meta_raw, 3));
  footer.meta_offset = m.position;
  footer.meta_compressed_size = meta_packed.size();
  RETURN_IF_ERROR(m.WriteBytes(meta_packed));
  auto footer_bytes = EncodeFooter(footer);
  RETURN_IF_ERROR(m.WriteBytes(footer_bytes));
  if (::fsync(m.fd.get()) != 0) return ErrnoError(errno, "fsync " + m.tmp_path);
  if (::fchmod(m.fd.get(), 0644) != 0) return ErrnoError(errno, "chmod " + m.tmp_path);

  BlobResult result;
  result.id = m.file_hash.Finish();
  result.path = m.dir + "/" + ToHex(result.id);
  result.compressed_size = m.position;
  result.uncompressed_bytes = footer.uncompressed_bytes;
  if (::rename(m.tmp_path.c_str(), result.path.c_str()) != 0) {
    return ErrnoError(errno, "rename " + m.tmp_path + " to " + result.path);
  }
  m.finished = true;
  result.meta = std::move(m.meta);
  return result;
}

}  // namespace tessera::storage
