// ImageStore over an OCI layout directory and over a registry repository.
#include "tessera/oci/store.h"

#include <optional>

#include "atomic_file.h"

#include "tessera/common/digest.h"
#include "tessera/oci/layout.h"

namespace tessera::oci {
namespace {

constexpr uint64_t kMaxDocument = 64u << 20;

Status CheckDocumentSize(const Descriptor& d, const std::string& where) {
  if (d.size > kMaxDocument) {
    return MakeError(ErrorCode::kTooLarge,
                     where + ": document " + d.digest + " of " + std::to_string(d.size) + " bytes");
  }
  return Ok();
}

// Reads a ByteSource front to back as a stream.
class SourceStream final : public ByteStream {
 public:
  explicit SourceStream(std::unique_ptr<ByteSource> source, Descriptor d)
      : source_(std::move(source)), descriptor_(std::move(d)) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (out.empty()) return size_t{0};
    if (finished_) return finished_->has_value() ? Result<size_t>(size_t{0}) : finished_->error();
    uint64_t left = source_->Size() - pos_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, out.size()));
    if (n == 0) {
      finished_ = Finish();  // checked once; later reads repeat the outcome
      return *finished_;
    }
    RETURN_IF_ERROR(source_->ReadAt(pos_, out.first(n)));
    sha_.Update(out.first(n));
    pos_ += n;
    return n;
  }

 private:
  Result<size_t> Finish() {
    if (pos_ != descriptor_.size) {
      return MakeError(ErrorCode::kCorrupt, "blob " + descriptor_.digest + ": size " +
                                                std::to_string(pos_) + ", expected " +
                                                std::to_string(descriptor_.size));
    }
    std::string actual = "sha256:" + ToHex(sha_.Finish());
    if (actual != descriptor_.digest) {
      return MakeError(ErrorCode::kCorrupt,
                       "blob " + descriptor_.digest + ": content has digest " + actual);
    }
    return size_t{0};
  }
  std::unique_ptr<ByteSource> source_;
  Descriptor descriptor_;
  Sha256 sha_;
  uint64_t pos_ = 0;
  std::optional<Result<size_t>> finished_;
};

class LayoutStore final : public ImageStore {
 public:
  LayoutStore(std::unique_ptr<OciLayout> layout, std::string tag)
      : layout_(std::move(layout)), tag_(std::move(tag)) {}
  std::string Describe() const override { return "oci:" + layout_->dir() + ":" + tag_; }

  Result<FetchedDocument> Resolve() override {
    TRY(Descriptor d, layout_->Resolve(tag_));
    TRY(auto bytes, ReadDocument(d));
    return FetchedDocument{std::move(bytes), d.media_type, d.digest};
  }
  Result<std::vector<uint8_t>> ReadDocument(const Descriptor& d) override {
    RETURN_IF_ERROR(CheckDocumentSize(d, Describe()));
    return layout_->ReadBlob(d.digest, d.size);
  }
  Result<std::unique_ptr<ByteStream>> OpenBlob(const Descriptor& d) override {
    TRY(auto source, layout_->OpenBlob(d.digest));
    return std::unique_ptr<ByteStream>(std::make_unique<SourceStream>(std::move(source), d));
  }
  Result<bool> HasBlob(const Descriptor& d) override { return layout_->HasBlob(d.digest); }
  Result<bool> PutBlob(const Descriptor& d, const ByteSource& data, const ProgressFn& progress,
                       const std::string&) override;
  Status PutDocument(const Descriptor& d, std::span<const uint8_t> bytes) override {
    RETURN_IF_ERROR(VerifyContent(bytes, d.digest, d.size, Describe() + ": document"));
    TRY(auto written, layout_->WriteBlob(bytes, d.media_type));
    (void)written;
    return Ok();
  }
  Status Tag(const Descriptor& d, std::span<const uint8_t> bytes) override {
    RETURN_IF_ERROR(PutDocument(d, bytes));
    Descriptor entry = d;
    entry.annotations.clear();
    return layout_->Tag(entry, tag_);
  }

 private:
  std::unique_ptr<OciLayout> layout_;
  std::string tag_;
};

Result<bool> LayoutStore::PutBlob(const Descriptor& d, const ByteSource& data,
                                  const ProgressFn& progress, const std::string&) {
  RETURN_IF_ERROR(ValidateDigest(d.digest));
  if (layout_->HasBlob(d.digest)) return false;
  std::string what = Describe() + ": blob " + d.digest;
  if (data.Size() != d.size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + ": source has " + std::to_string(data.Size()) + " bytes");
  }
  // Streamed through a temporary file (layers can be large), verified before it is renamed.
  TRY(auto temp, internal::TempFile::Create(layout_->dir() + "/blobs/sha256"));
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < d.size;) {
    std::span<uint8_t> chunk(buf.data(), std::min<uint64_t>(buf.size(), d.size - off));
    RETURN_IF_ERROR(data.ReadAt(off, chunk));
    sha.Update(chunk);
    RETURN_IF_ERROR(temp.Write(chunk));
    off += chunk.size();
    if (progress) progress(off, d.size);
  }
  std::string actual = "sha256:" + ToHex(sha.Finish());
  if (actual != d.digest) {
    return MakeError(ErrorCode::kCorrupt, what + ": source has digest " + actual);
  }
  RETURN_IF_ERROR(temp.Commit(layout_->BlobPath(d.digest)));
  return true;
}

class RegistryStore final : public ImageStore {
 public:
  RegistryStore(std::unique_ptr<RegistryClient> client, Reference ref)
      : client_(std::move(client)), ref_(std::move(ref)) {}
  std::string Describe() const override { return ref_.ToString(); }

  Result<FetchedDocument> Resolve() override {
    return client_->GetManifest(ref_.repository, ref_.ManifestRef());
  }
  Result<std::vector<uint8_t>> ReadDocument(const Descriptor& d) override {
    RETURN_IF_ERROR(CheckDocumentSize(d, Describe()));
    if (IsManifestType(d.media_type) || IsIndexType(d.media_type)) {
      TRY(FetchedDocument doc, client_->GetManifest(ref_.repository, d.digest));
      RETURN_IF_ERROR(VerifyContent(doc.bytes, d.digest, d.size, Describe() + ": document"));
      return std::move(doc.bytes);
    }
    return client_->GetBlob(ref_.repository, d);
  }
  Result<std::unique_ptr<ByteStream>> OpenBlob(const Descriptor& d) override {
    return client_->OpenBlob(ref_.repository, d);
  }
  Result<bool> HasBlob(const Descriptor& d) override {
    TRY(auto size, client_->HeadBlob(ref_.repository, d.digest));
    return size.has_value();
  }
  Result<bool> PutBlob(const Descriptor& d, const ByteSource& data, const ProgressFn& progress,
                       const std::string& mount_from) override {
    if (!mount_from.empty() && mount_from != ref_.repository) {
      TRY(bool mounted, client_->MountBlob(ref_.repository, d.digest, mount_from));
      if (mounted) return false;
    }
    return client_->PushBlob(ref_.repository, d, data, progress);
  }
  Status PutDocument(const Descriptor& d, std::span<const uint8_t> bytes) override {
    TRY(auto digest, client_->PutManifest(ref_.repository, d.digest, d.media_type, bytes));
    (void)digest;
    return Ok();
  }
  Status Tag(const Descriptor& d, std::span<const uint8_t> bytes) override {
    if (ref_.tag.empty()) return PutDocument(d, bytes);
    RETURN_IF_ERROR(VerifyContent(bytes, d.digest, d.size, Describe() + ": document"));
    TRY(auto digest, client_->PutManifest(ref_.repository, ref_.tag, d.media_type, bytes));
    (void)digest;
    return Ok();
  }

 private:
  std::unique_ptr<RegistryClient> client_;
  Reference ref_;
};

}  // namespace

Result<std::unique_ptr<ImageStore>> OpenImageStore(const ImageLocation& location,
                                                   const RegistryOptions& options, bool create,
                                                   const Credentials& credentials) {
  if (location.kind == ImageLocation::Kind::kLayout) {
    auto layout = create ? OciLayout::OpenOrCreate(location.layout_dir)
                         : OciLayout::Open(location.layout_dir);
    if (!layout) return layout.error();
    std::string tag = location.layout_tag.empty() ? "latest" : location.layout_tag;
    return std::unique_ptr<ImageStore>(std::make_unique<LayoutStore>(std::move(*layout), tag));
  }
  const Reference& ref = location.reference;
  // Plain HTTP (loopback or not) only when the caller's options ask for it.
  const RegistryOptions& opts = options;
  Credentials creds = credentials;
  if (creds.empty()) {
    TRY(creds, LoadDockerCredentials(ref.registry));
  }
  TRY(auto client, RegistryClient::Create(ref.registry, opts, creds));
  return std::unique_ptr<ImageStore>(std::make_unique<RegistryStore>(std::move(client), ref));
}

}  // namespace tessera::oci
