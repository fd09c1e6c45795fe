// Storing the converted image's blobs in the target; what the target already has is not sent.
#include <mutex>

#include "convert/convert_internal.h"

namespace tessera::builder::convert {
namespace {

// A dictionary blob, fetched into the work directory only if the target asks for its bytes
// (it neither has the blob nor could mount it from the dictionary's repository).
class DeferredBlobSource final : public ByteSource {
 public:
  DeferredBlobSource(oci::ImageStore& store, oci::Descriptor blob, std::string path)
      : store_(store), blob_(std::move(blob)), path_(std::move(path)) {}

  uint64_t Size() const override { return blob_.size; }

  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    std::lock_guard lock(mu_);
    if (!file_) {
      RETURN_IF_ERROR_CTX(Fetch(), "chunk dict blob " + blob_.digest);
    }
    return file_->ReadAt(offset, out);
  }

 private:
  Status Fetch() const {
    TRY(std::unique_ptr<ByteStream> in, store_.OpenBlob(blob_));
    TRY(std::unique_ptr<FileSink> sink, FileSink::Create(path_));
    std::vector<uint8_t> buffer(1 << 20);
    for (;;) {
      TRY(size_t n, in->Read(buffer));
      if (n == 0) break;
      RETURN_IF_ERROR(sink->Write(std::span(buffer).first(n)));
    }
    RETURN_IF_ERROR(sink->Flush());
    sink.reset();
    TRY(file_, FileSource::Open(path_));
    return Ok();
  }

  oci::ImageStore& store_;
  oci::Descriptor blob_;
  std::string path_;
  mutable std::mutex mu_;
  mutable std::unique_ptr<FileSource> file_;
};

// The dictionary's repository when it lives on the target's registry (cross-repo mount).
// Adds a stored blob to the summary: sent, or already in the target (or mounted there).
void CountStored(ConvertContext& ctx, const oci::Descriptor& blob, bool sent) {
  std::lock_guard lock(ctx.mu);
  if (sent) {
    ctx.summary.uploaded_bytes += blob.size;
    ++ctx.summary.uploaded_blobs;
  } else {
    ++ctx.summary.existing_blobs;
  }
}

std::string MountSource(const ConvertContext& ctx) {
  using Kind = oci::ImageLocation::Kind;
  if (ctx.dict_location.kind != Kind::kRegistry || ctx.target_location.kind != Kind::kRegistry) {
    return {};
  }
  const oci::Reference& dict = ctx.dict_location.reference;
  const oci::Reference& target = ctx.target_location.reference;
  if (dict.registry != target.registry || dict.repository == target.repository) return {};
  return dict.repository;
}

Status Put(ConvertContext& ctx, const oci::Descriptor& blob, const ByteSource& data,
           const std::string& platform, size_t index, size_t count, const std::string& mount_from) {
  ConvertProgress progress{
      ConvertProgress::Phase::kUpload, platform, index, count, blob.digest, 0, blob.size};
  ctx.Report(progress);
  auto on_progress = [&](uint64_t done, uint64_t) {
    progress.done = done;
    ctx.Report(progress);
  };
  TRY(bool sent, ctx.target->PutBlob(blob, data, on_progress, mount_from));
  CountStored(ctx, blob, sent);
  progress.phase = ConvertProgress::Phase::kUploaded;
  progress.done = blob.size;
  progress.skipped = !sent;
  ctx.Report(progress);
  return Ok();
}

}  // namespace

void ConvertContext::Report(const ConvertProgress& progress) {
  if (!options.progress) return;
  std::lock_guard lock(mu);
  options.progress(progress);
}

Status PushFile(ConvertContext& ctx, const oci::Descriptor& blob, const std::string& path,
                const std::string& platform, size_t index, size_t count) {
  TRY(std::unique_ptr<FileSource> source, FileSource::Open(path));
  RETURN_IF_ERROR_CTX(Put(ctx, blob, *source, platform, index, count, {}), "push " + blob.digest);
  return Ok();
}

Status PushDictBlob(ConvertContext& ctx, const oci::Descriptor& blob, const std::string& platform,
                    size_t index, size_t count) {
  if (!ctx.dict_store) return MakeError(ErrorCode::kInternal, "dictionary blob without dictionary");
  std::string path;
  {
    std::lock_guard lock(ctx.mu);
    path = ctx.work_dir + "/dict-blob-" + std::to_string(ctx.next_file++);
  }
  DeferredBlobSource source(*ctx.dict_store, blob, path);
  RETURN_IF_ERROR_CTX(Put(ctx, blob, source, platform, index, count, MountSource(ctx)),
                      "push chunk dict blob " + blob.digest);
  return Ok();
}

Status PushBytes(ConvertContext& ctx, const oci::Descriptor& blob, std::span<const uint8_t> bytes) {
  MemorySource source(bytes);
  TRY(bool sent, ctx.target->PutBlob(blob, source));
  CountStored(ctx, blob, sent);
  return Ok();
}

}  // namespace tessera::builder::convert
