// Reading the manifests and indexes a conversion starts from.
#include "convert/convert_internal.h"

namespace tessera::builder::convert {

Result<TopDocument> ReadTop(oci::ImageStore& store) {
  TRY(oci::FetchedDocument doc, store.Resolve());
  TopDocument top;
  top.descriptor.digest = doc.digest;
  top.descriptor.size = doc.bytes.size();
  top.descriptor.media_type = doc.media_type;
  if (oci::IsIndexType(doc.media_type)) {
    TRY(top.index, oci::ParseIndex(doc.bytes, doc.media_type));
    return top;
  }
  auto manifest = oci::ParseManifest(doc.bytes, doc.media_type);
  if (manifest) {
    top.descriptor.media_type = manifest->media_type;
    top.manifest = std::move(*manifest);
    return top;
  }
  if (!doc.media_type.empty()) return manifest.error().Wrap(store.Describe());
  // No media type from the store: the document's own fields decide.
  auto index = oci::ParseIndex(doc.bytes);
  if (!index) return manifest.error().Wrap(store.Describe());
  top.descriptor.media_type = index->media_type;
  top.index = std::move(*index);
  return top;
}

Result<oci::Manifest> ReadManifest(oci::ImageStore& store, const oci::Descriptor& descriptor) {
  if (!oci::IsManifestType(descriptor.media_type)) {
    return MakeError(ErrorCode::kUnsupported, "manifest " + descriptor.digest + ": media type '" +
                                                  descriptor.media_type +
                                                  "' is not an image manifest");
  }
  TRY(std::vector<uint8_t> bytes, store.ReadDocument(descriptor));
  auto manifest = oci::ParseManifest(bytes, descriptor.media_type);
  if (!manifest) return manifest.error().Wrap("manifest " + descriptor.digest);
  return manifest;
}

}  // namespace tessera::builder::convert
