// Private to the tar importer: tar entry names -> path components that cannot leave the root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"

namespace tessera::builder::internal {

// Splits an entry name into components, dropping leading "/", empty components ("a//b") and
// "." components ("./a/./b"). An empty result is the root. Fails with kCorrupt on a ".."
// component and kUnsupported on a component longer than 255 bytes (EROFS's name limit).
Result<std::vector<std::string>> SplitTarPath(std::string_view path);

// "a/b/c" from {"a", "b", "c"}; "" for the root. With `count`, only the first count parts.
std::string JoinTarPath(const std::vector<std::string>& parts, size_t count = SIZE_MAX);

}  // namespace tessera::builder::internal
