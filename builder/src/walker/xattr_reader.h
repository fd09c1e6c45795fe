// Private to the walker: reading a path's extended attributes without following symlinks.
#pragma once

#include <string>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"

namespace tessera::builder::internal {

// All xattrs of `path` (llistxattr + lgetxattr), in the order the filesystem lists them. A
// filesystem without xattr support gives an empty list. Errors name the path and attribute.
Result<std::vector<erofs::Xattr>> ReadXattrs(const std::string& path);

}  // namespace tessera::builder::internal
