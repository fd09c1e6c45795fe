// The cached minbase test image in a fresh registry on 127.0.0.1, for suites that pull it
// through containerd: pushed as "minbase:oci" and converted by tessera-image to
// "minbase:tessera".
//
// Thread-safety: call from one thread (suite set-up).
#pragma once

#include <memory>
#include <string>

#include "support/registry_server.h"
#include "support/test_image.h"

#include "tessera/common/result.h"

namespace tessera::test {

struct MinbaseRegistry {
  TestImage image;
  std::unique_ptr<RegistryServer> registry;
};

Result<MinbaseRegistry> StartMinbaseRegistry();

// `tessera-image convert --plain-http --source SOURCE --target TARGET`; the error has its output.
Status ConvertImage(const std::string& source, const std::string& target);

}  // namespace tessera::test
