// Pulling a Tessera image into containerd with remote layers (`tesseractl pull`).
//
// containerd 1.6's own pull passes no labels to the snapshotter, so it cannot skip layers that a
// snapshotter serves lazily. PullImage does what containerd's pull and unpack do, minus the layer
// downloads: it fetches the manifest and config from the registry, stores them in containerd's
// content store (with the garbage-collection labels containerd's pull sets), prepares every layer
// through containerd's snapshots service with the layer's annotations and the
// `containerd.io/snapshot.ref` / `containerd.io/snapshot/cri.*` labels, so that
// tessera-snapshotter commits each one itself as a remote layer, and creates the image record.
// The committed snapshots carry containerd's chain-ID names, so `ctr run --snapshotter tessera`
// finds the image unpacked.
//
// Thread-safety: reentrant; each call opens its own connections.
#pragma once

#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::ctrclient {

struct PullOptions {
  std::string address;    // containerd's gRPC socket
  std::string reference;  // registry image reference (the containerd image name, as given)
  std::string snapshotter = "tessera";
  std::string ns = "default";  // containerd namespace
  bool plain_http = false;     // talk to the registry over http
  std::string docker_config;   // credentials file; empty: $DOCKER_CONFIG or ~/.docker
  // Send only what containerd's CRI plugin sends (containerd.io/snapshot.ref and
  // containerd.io/snapshot/cri.*), without the Tessera layer markers: the snapshotter then
  // reads the manifest to recognise Tessera layers.
  bool cri_labels_only = false;
};

struct PullResult {
  std::string image_name;
  std::string target_digest;    // what the image record points at (manifest or index)
  std::string manifest_digest;  // the platform manifest
  std::string chain_id;         // the top snapshot (the image's rootfs chain ID)
  int layers = 0;
  int remote_layers = 0;  // layers the snapshotter took as remote in this pull
};

// Fails with kInvalidArgument for an image that is not a Tessera image (pull those with
// `ctr image pull`), kFailedPrecondition if the snapshotter unpacked a layer instead of taking
// it as remote, and the registry's or containerd's error otherwise.
Result<PullResult> PullImage(const PullOptions& options);

// containerd's chain IDs: id[0] = diff_ids[0], id[i] = sha256(id[i-1] + " " + diff_ids[i]).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

}  // namespace tessera::ctrclient
