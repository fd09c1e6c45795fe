#include "remote/labels.h"

namespace tessera::snapshotter::internal {
namespace {

bool IsTrue(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it != labels.end() && it->second == "true";
}

std::string Get(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// "host/repo:tag" + "@sha256:..." unless the reference names a digest already.
std::string PinnedImage(const std::string& image, const std::string& manifest_digest) {
  if (manifest_digest.empty() || image.find('@') != std::string::npos) return image;
  return image + "@" + manifest_digest;
}

}  // namespace

RemoteKind RemoteKindOfPrepare(const Labels& labels) {
  if (IsTrue(labels, kLabelTesseraBootstrap) || IsTrue(labels, kLabelCtrTesseraBootstrap)) {
    return RemoteKind::kBootstrap;
  }
  if (IsTrue(labels, kLabelTesseraBlob) || IsTrue(labels, kLabelCtrTesseraBlob)) {
    return RemoteKind::kBlob;
  }
  return RemoteKind::kNone;
}

RemoteKind RemoteKindOfSnapshot(const Labels& labels) {
  const std::string kind = Get(labels, kLabelRemote);
  if (kind == "bootstrap") return RemoteKind::kBootstrap;
  if (kind == "blob") return RemoteKind::kBlob;
  return RemoteKind::kNone;
}

Result<Labels> RemoteSnapshotLabels(const Labels& prepare_labels, RemoteKind kind) {
  const std::string what = kind == RemoteKind::kBootstrap ? "bootstrap" : "blob";
  if (Get(prepare_labels, kLabelSnapshotRef).empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "Tessera " + what + " layer without the " + std::string(kLabelSnapshotRef) +
                         " label: containerd cannot unpack Tessera layers; use `tesseractl pull` "
                         "to pull Tessera images");
  }
  Labels out = prepare_labels;
  out[kLabelRemote] = what;
  if (kind == RemoteKind::kBootstrap) {
    const std::string image = Get(prepare_labels, kLabelCriImageRef);
    if (image.empty()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "Tessera bootstrap layer without the " + std::string(kLabelCriImageRef) +
                           " label: the image to serve is unknown; use `tesseractl pull`");
    }
    out[kLabelRemoteImage] = PinnedImage(image, Get(prepare_labels, kLabelCriManifestDigest));
  }
  return out;
}

}  // namespace tessera::snapshotter::internal
