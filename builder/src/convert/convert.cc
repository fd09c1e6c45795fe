// ConvertImage: open the stores, resolve the source, convert each platform, store the index
// (if any) and tag the result last.
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>

#include "convert/convert_internal.h"

#include "tessera/common/process.h"

namespace tessera::builder::convert {
namespace {

// A temporary directory under a chosen parent, removed with everything in it.
class WorkDir {
 public:
  static Result<WorkDir> Create(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string templ = base + "/tessera-convert.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return ErrnoError(errno, "mkdtemp " + templ);
    return WorkDir(templ);
  }
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir() {
    if (!path_.empty()) (void)RemoveTree(path_);
  }
  const std::string& path() const { return path_; }

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Result<std::unique_ptr<oci::ImageStore>> OpenStore(const std::string& text, const char* what,
                                                   const oci::RegistryOptions& registry,
                                                   bool create, oci::ImageLocation* location) {
  auto parsed = oci::ImageLocation::Parse(text);
  if (!parsed) return parsed.error().Wrap(what);
  *location = *parsed;
  auto store = oci::OpenImageStore(*location, registry, create);
  if (!store) return store.error().Wrap(std::string(what) + " " + text);
  return store;
}

Status OpenStores(ConvertContext& ctx) {
  const ConvertOptions& o = ctx.options;
  oci::RegistryOptions registry;
  registry.plain_http = o.plain_http;
  TRY(ctx.source, OpenStore(o.source, "source", registry, false, &ctx.source_location));
  TRY(ctx.target, OpenStore(o.target, "target", registry, true, &ctx.target_location));
  if (!o.chunk_dict.empty()) {
    TRY(ctx.dict_store, OpenStore(o.chunk_dict, "chunk dict", registry, false, &ctx.dict_location));
  }
  if (!o.platform.empty()) {
    auto platform = oci::Platform::Parse(o.platform);
    if (!platform) return platform.error().Wrap("--platform");
    ctx.platform_filter = *platform;
  }
  return Ok();
}

StoredDocument MakeDocument(std::string bytes, std::string_view media_type) {
  std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  oci::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = oci::DigestOf(span);
  d.size = bytes.size();
  return StoredDocument{d, std::move(bytes)};
}

std::span<const uint8_t> Bytes(const StoredDocument& doc) {
  return {reinterpret_cast<const uint8_t*>(doc.bytes.data()), doc.bytes.size()};
}

Result<StoredDocument> ConvertIndex(ConvertContext& ctx, const oci::Index& index) {
  TRY(std::vector<oci::Descriptor> entries, SelectManifests(index, ctx.platform_filter));
  std::vector<oci::Descriptor> converted;
  for (const oci::Descriptor& entry : entries) {
    TRY(oci::Manifest manifest, ReadManifest(*ctx.source, entry));
    TRY(StoredDocument doc, ConvertManifest(ctx, entry, manifest));
    converted.push_back(doc.descriptor);
  }
  StoredDocument doc =
      MakeDocument(oci::EncodeIndex(BuildIndex(converted, ctx.source_location.ToString())),
                   oci::media::kOciIndex);
  RETURN_IF_ERROR_CTX(ctx.target->PutDocument(doc.descriptor, Bytes(doc)),
                      "store index " + doc.descriptor.digest);
  return doc;
}

Result<StoredDocument> Convert(ConvertContext& ctx) {
  TRY(TopDocument top, ReadTop(*ctx.source));
  if (top.index) return ConvertIndex(ctx, *top.index);
  return ConvertManifest(ctx, top.descriptor, *top.manifest);
}

}  // namespace
}  // namespace tessera::builder::convert

namespace tessera::builder {

Result<ConvertSummary> ConvertImage(const ConvertOptions& options) {
  using convert::ConvertContext;
  const auto start = std::chrono::steady_clock::now();
  ConvertContext ctx(options);
  RETURN_IF_ERROR(convert::OpenStores(ctx));
  TRY(convert::WorkDir work, convert::WorkDir::Create(options.work_dir));
  ctx.work_dir = work.path();
  ctx.blob_dir = ctx.work_dir + "/blobs";
  if (::mkdir(ctx.blob_dir.c_str(), 0755) != 0) return ErrnoError(errno, "mkdir " + ctx.blob_dir);

  auto converted = convert::Convert(ctx);
  if (!converted) return converted.error().Wrap("convert " + ctx.source->Describe());
  const convert::StoredDocument& doc = *converted;
  RETURN_IF_ERROR_CTX(ctx.target->Tag(doc.descriptor, convert::Bytes(doc)),
                      "tag " + ctx.target->Describe());
  ConvertSummary summary = std::move(ctx.summary);
  summary.digest = doc.descriptor.digest;
  summary.media_type = doc.descriptor.media_type;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace tessera::builder
