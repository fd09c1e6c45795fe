// The metadata of one snapshot as stored in RocksDB, and its encoding (a small JSON object, so
// a database can be inspected with ldb). The snapshot's name is the database key, not part of
// the value.
//
// Thread-safety: plain value type; the codec functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

struct Record {
  uint64_t id = 0;    // names the directory snapshots/<id>
  SnapshotInfo info;  // name comes from the key
  Usage usage;        // committed snapshots: measured at commit
  // A layer whose content is served elsewhere (a tesserad mount of a Tessera layer): its lower
  // directory in mounts. Empty for plain layers, whose content is snapshots/<id>/fs.
  std::string remote_dir;
};

std::string EncodeRecord(const Record& record);
// Decodes a value read under `name`; anything malformed is kCorrupt naming the snapshot.
Result<Record> DecodeRecord(std::string_view name, std::string_view value);

}  // namespace tessera::snapshotter::internal
