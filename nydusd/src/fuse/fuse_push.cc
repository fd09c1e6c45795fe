// Pushing small cached files into the kernel's page cache (FUSE_NOTIFY_STORE) ahead of a reader.
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "fuse/fuse_state.h"

namespace tessera::nydusd {

void PushFollowing(FuseServer::State& s, uint64_t nid) {
  std::vector<PushItem> items = s.push->AfterRead(nid);
  if (items.empty()) return;
  uint64_t largest = 0;
  for (const PushItem& item : items) largest = std::max(largest, item.size);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[largest]);
  for (const PushItem& item : items) {
    if (s.push->Passed(item)) continue;  // the reader got there first
    // Cached and verified bytes only: a file not (wholly) in the cache is left to its reader.
    auto n = s.fs->ReadCached(item.nid, 0, std::span<uint8_t>(buf.get(), item.size));
    if (!n || *n != item.size) continue;
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(*n);
    bv.buf[0].mem = buf.get();
    // The kernel refuses inodes it has forgotten (ENOENT); the file is then read as usual.
    if (fuse_lowlevel_notify_store(s.session, InoOfNid(s, item.nid), 0, &bv,
                                   static_cast<fuse_buf_copy_flags>(0)) == 0 &&
        s.observer) {
      s.observer->Pushed(*n);
    }
  }
}

}  // namespace tessera::nydusd
