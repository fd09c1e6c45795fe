// LayerProbe: recognises Tessera layers in CRI-style pulls. containerd's CRI plugin labels each
// layer's Prepare with containerd.io/snapshot/cri.{image-ref,manifest-digest,layer-digest} but
// not with the layer's own annotations, so the snapshotter reads the manifest from the registry
// (once per manifest) and looks the layer up there.
//
// Thread-safety: not thread-safe; the snapshotter calls it under its lock.
#pragma once

#include <map>
#include <string>

#include "remote/labels.h"

#include "tessera/common/result.h"
#include "tessera/oci/image.h"

namespace tessera::snapshotter::internal {

class LayerProbe {
 public:
  LayerProbe(bool plain_http_loopback, std::string docker_config)
      : plain_http_loopback_(plain_http_loopback), docker_config_(std::move(docker_config)) {}

  // True if the labels carry the CRI image, manifest and layer digests and the target name.
  static bool HasCriLabels(const Labels& labels);

  // The kind of the labelled layer in its manifest: kNone for a plain layer. Registry errors
  // are returned (naming the image); a manifest without the layer is kNotFound.
  Result<RemoteKind> Probe(const Labels& labels);

 private:
  Result<oci::Manifest> Fetch(const std::string& image, const std::string& manifest_digest);

  const bool plain_http_loopback_;
  const std::string docker_config_;
  std::map<std::string, oci::Manifest> cache_;  // by manifest digest
};

}  // namespace tessera::snapshotter::internal
