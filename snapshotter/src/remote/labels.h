// Remote (Tessera) layers as the snapshotter sees them on Prepare: which labels mark a layer
// as a Tessera blob or bootstrap, and the labels the snapshotter keeps on the snapshot it
// commits for such a layer.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

// containerd's remote-snapshot protocol and CRI image labels.
inline constexpr const char* kLabelSnapshotRef = "containerd.io/snapshot.ref";
inline constexpr const char* kLabelCriImageRef = "containerd.io/snapshot/cri.image-ref";
inline constexpr const char* kLabelCriLayerDigest = "containerd.io/snapshot/cri.layer-digest";
inline constexpr const char* kLabelCriManifestDigest = "containerd.io/snapshot/cri.manifest-digest";
// Layer annotations of a converted image (docs/format.md §4), passed as labels by
// `tesseractl pull`.
inline constexpr const char* kLabelTesseraBlob = "io.tessera.image.blob";
inline constexpr const char* kLabelTesseraBootstrap = "io.tessera.image.bootstrap";
// The same through containerd: its metadata layer passes a snapshotter only labels under
// "containerd.io/snapshot/" (and containerd.io/snapshot.ref), so `tesseractl pull` sends these.
inline constexpr const char* kLabelCtrTesseraBlob = "containerd.io/snapshot/tessera.blob";
inline constexpr const char* kLabelCtrTesseraBootstrap = "containerd.io/snapshot/tessera.bootstrap";
// Kept on the committed remote snapshot: "blob" or "bootstrap", and the image tesserad serves.
inline constexpr const char* kLabelRemote = "io.tessera.snapshot.remote";
inline constexpr const char* kLabelRemoteImage = "io.tessera.snapshot.image";

enum class RemoteKind { kNone, kBlob, kBootstrap };

// The kind a Prepare's labels ask for (the io.tessera.image.* annotations).
RemoteKind RemoteKindOfPrepare(const Labels& labels);
// The kind of a committed snapshot (kLabelRemote).
RemoteKind RemoteKindOfSnapshot(const Labels& labels);

// The labels of the committed remote snapshot: the Prepare's labels plus kLabelRemote and, for
// a bootstrap, kLabelRemoteImage (the image reference pinned to the manifest digest when known).
// kFailedPrecondition naming `tesseractl pull` when the labels containerd's remote-snapshot
// protocol needs are missing.
Result<Labels> RemoteSnapshotLabels(const Labels& prepare_labels, RemoteKind kind);

}  // namespace tessera::snapshotter::internal
