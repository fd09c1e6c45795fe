// Real test images, made once and cached between runs outside the repo
// ($TESSERA_IMAGE_CACHE, default /var/cache/tessera-images):
//   rootfs    `debootstrap --variant=minbase bookworm` (needs the Debian mirror apt uses)
//   layout    an OCI layout (umoci) of that rootfs as several layers with real diffs: base,
//             then changes that add, modify and delete files (whiteouts) and replace a dir
//   unpacked  `umoci unpack` of the layout's image: the reference tree for comparisons
#pragma once

#include <string>

#include "tessera/common/result.h"

namespace tessera::test {

struct TestImage {
  std::string layout_dir;  // OCI layout
  std::string tag;         // tag of the image in layout_dir
  std::string rootfs_dir;  // the image's unpacked root filesystem (reference)
};

// Builds (or reuses) the cached minbase image. Takes minutes the first time.
Result<TestImage> MinbaseImage();

}  // namespace tessera::test
