// Writes a Tessera bootstrap: the EROFS image of a tree whose chunked files point at blobs,
// with the device table naming the blobs and the Tessera tables in the trailer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/erofs/tree.h"
#include "tessera/storage/bootstrap.h"

namespace tessera::builder {

// Writes atomically (temporary file, fsync, rename). Returns the bootstrap's size. The
// prefetch table records the nids of `prefetch` nodes, in order (tables.prefetch is ignored).
Result<uint64_t> WriteBootstrap(const erofs::Tree& tree, const storage::BootstrapTables& tables,
                                const std::string& path, int64_t build_time,
                                const std::vector<erofs::NodeId>& prefetch = {});

}  // namespace tessera::builder
