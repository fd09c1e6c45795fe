// A minimal Kubernetes CRI client for tests: ImageService.PullImage (runtime.v1) over a unix
// socket, the call kubelet makes to pull an image through containerd's CRI plugin. The messages
// come from image_service.proto beside this file (a hand-written subset of the CRI spec), so the
// tests need neither crictl nor the cri-api sources.
//
// Thread-safety: a free function; concurrent calls are independent.
#pragma once

#include <string>

#include "tessera/common/result.h"

namespace tessera::testing {

// Pulls `image` through the CRI ImageService on `socket` (containerd's gRPC socket) and returns
// the image id the runtime answers (containerd: "sha256:<config digest>"). Fails with
// kUnavailable if nothing answers, kTimeout after `timeout_seconds`, else with the gRPC status
// code's name and the runtime's message in the context.
Result<std::string> CriPullImage(const std::string& socket, const std::string& image,
                                 int timeout_seconds = 300);

}  // namespace tessera::testing
