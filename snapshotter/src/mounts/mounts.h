// Mount assembly for a snapshot, the way containerd's overlayfs snapshotter lays it out:
//  - no parent: a bind mount of the snapshot's own fs dir (rw for active, ro for a view);
//  - a view of one parent: a read-only bind mount of the parent's dir;
//  - otherwise overlay: lowerdir = parents nearest first (lowerdir's leftmost entry is the top
//    layer), plus upperdir/workdir for an active snapshot; a view gets lowerdirs only.
// The lower dirs are whatever the caller passes, so a parent served remotely (a tesserad
// mount of a Tessera layer) is a lower dir like any other.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

struct MountPlan {
  Kind kind = Kind::kActive;            // kActive or kView
  std::string fs_dir;                   // the snapshot's own snapshots/<id>/fs
  std::string work_dir;                 // snapshots/<id>/work (active only)
  std::vector<std::string> lower_dirs;  // parents' content dirs, nearest parent first
  bool index_off = false;               // add "index=off" to overlay options
};

std::vector<Mount> ComputeMounts(const MountPlan& plan);

}  // namespace tessera::snapshotter::internal
