// OCI image layout directories.
#include "tessera/oci/layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "atomic_file.h"
#include "json_util.h"

#include "tessera/common/digest.h"

namespace tessera::oci {
namespace {

constexpr std::string_view kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
constexpr std::string_view kEmptyIndex =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError(errno, path);
  return Ok();
}

Status CheckLayoutFile(const std::string& dir) {
  std::string path = dir + "/oci-layout";
  TRY(auto bytes, ReadFile(path));
  TRY(auto doc, internal::ParseObject(bytes, path));
  TRY(std::string version,
      internal::RequiredString(doc, "imageLayoutVersion", path + ": imageLayoutVersion"));
  if (!version.starts_with("1.")) {
    return MakeError(ErrorCode::kUnsupported, path + ": imageLayoutVersion " + version);
  }
  return Ok();
}

}  // namespace

struct OciLayout::Impl {
  std::string dir;
  std::mutex index_mu;  // serializes index.json read-modify-write
};

OciLayout::OciLayout(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OciLayout::~OciLayout() = default;

Result<std::unique_ptr<OciLayout>> OciLayout::Open(const std::string& dir) {
  RETURN_IF_ERROR_CTX(CheckLayoutFile(dir), "OCI layout " + dir);
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  std::unique_ptr<OciLayout> layout(new OciLayout(std::move(impl)));
  RETURN_IF_ERROR_CTX(layout->ReadIndex(), "OCI layout " + dir);
  return layout;
}

Result<std::unique_ptr<OciLayout>> OciLayout::OpenOrCreate(const std::string& dir) {
  struct stat st;
  if (stat((dir + "/oci-layout").c_str(), &st) == 0) return Open(dir);
  RETURN_IF_ERROR(MakeDir(dir));
  RETURN_IF_ERROR(MakeDir(dir + "/blobs"));
  RETURN_IF_ERROR(MakeDir(dir + "/blobs/sha256"));
  if (stat((dir + "/index.json").c_str(), &st) != 0) {
    RETURN_IF_ERROR(internal::WriteFileAtomic(dir + "/index.json", Bytes(kEmptyIndex)));
  }
  RETURN_IF_ERROR(internal::WriteFileAtomic(dir + "/oci-layout", Bytes(kLayoutFile)));
  return Open(dir);
}

const std::string& OciLayout::dir() const { return impl_->dir; }

std::string OciLayout::BlobPath(std::string_view digest) const {
  std::string_view hex = digest.substr(std::min(digest.find(':') + 1, digest.size()));
  return impl_->dir + "/blobs/sha256/" + std::string(hex);
}

bool OciLayout::HasBlob(std::string_view digest) const {
  if (!ValidateDigest(digest)) return false;
  struct stat st;
  return stat(BlobPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::vector<uint8_t>> OciLayout::ReadBlob(std::string_view digest,
                                                 std::optional<uint64_t> expected_size) const {
  RETURN_IF_ERROR_CTX(ValidateDigest(digest), "OCI layout " + impl_->dir);
  std::string path = BlobPath(digest);
  if (!HasBlob(digest)) {
    return MakeError(ErrorCode::kNotFound,
                     "OCI layout " + impl_->dir + ": no blob " + std::string(digest));
  }
  TRY(auto bytes, ReadFile(path));
  uint64_t size = expected_size.value_or(bytes.size());
  RETURN_IF_ERROR(VerifyContent(bytes, digest, size, "blob " + path));
  return bytes;
}

Result<std::unique_ptr<ByteSource>> OciLayout::OpenBlob(std::string_view digest) const {
  RETURN_IF_ERROR_CTX(ValidateDigest(digest), "OCI layout " + impl_->dir);
  if (!HasBlob(digest)) {
    return MakeError(ErrorCode::kNotFound,
                     "OCI layout " + impl_->dir + ": no blob " + std::string(digest));
  }
  TRY(auto source, FileSource::Open(BlobPath(digest)));
  return std::unique_ptr<ByteSource>(std::move(source));
}

Result<Descriptor> OciLayout::WriteBlob(std::span<const uint8_t> data,
                                        std::string_view media_type) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = DigestOf(data);
  d.size = data.size();
  if (!HasBlob(d.digest)) RETURN_IF_ERROR(internal::WriteFileAtomic(BlobPath(d.digest), data));
  return d;
}

Result<Descriptor> OciLayout::ImportBlobFile(const std::string& path, std::string_view media_type) {
  TRY(auto source, FileSource::Open(path));
  TRY(auto temp, internal::TempFile::Create(impl_->dir + "/blobs/sha256"));
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < source->Size();) {
    std::span<uint8_t> chunk(buf.data(), std::min<uint64_t>(buf.size(), source->Size() - off));
    RETURN_IF_ERROR(source->ReadAt(off, chunk));
    sha.Update(chunk);
    RETURN_IF_ERROR(temp.Write(chunk));
    off += chunk.size();
  }
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = "sha256:" + ToHex(sha.Finish());
  d.size = source->Size();
  RETURN_IF_ERROR(temp.Commit(BlobPath(d.digest)));
  return d;
}

Result<Index> OciLayout::ReadIndex() const {
  std::string path = impl_->dir + "/index.json";
  TRY(auto bytes, ReadFile(path));
  auto index = ParseIndex(bytes);
  if (!index) return index.error().Wrap(path);
  return index;
}

Result<Descriptor> OciLayout::Resolve(std::string_view tag) const {
  TRY(Index index, ReadIndex());
  for (const auto& d : index.manifests) {
    auto it = d.annotations.find(std::string(kRefName));
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  return MakeError(ErrorCode::kNotFound,
                   "OCI layout " + impl_->dir + ": no image tagged '" + std::string(tag) + "'");
}

Status OciLayout::Tag(const Descriptor& manifest_or_index, std::string_view tag) {
  std::lock_guard lock(impl_->index_mu);
  TRY(Index index, ReadIndex());
  std::erase_if(index.manifests, [&](const Descriptor& d) {
    auto it = d.annotations.find(std::string(kRefName));
    return it != d.annotations.end() && it->second == tag;
  });
  Descriptor entry = manifest_or_index;
  entry.annotations[std::string(kRefName)] = std::string(tag);
  index.manifests.push_back(std::move(entry));
  index.media_type = std::string(media::kOciIndex);
  std::string json = EncodeIndex(index);
  return internal::WriteFileAtomic(impl_->dir + "/index.json", Bytes(json));
}

}  // namespace tessera::oci
