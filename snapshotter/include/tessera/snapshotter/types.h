// Value types of the snapshotter API, independent of gRPC: what a snapshot is (SnapshotInfo),
// how much disk it uses (Usage) and how to mount it (Mount). They mirror containerd's
// snapshots.v1 messages so the gRPC layer only converts.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::snapshotter {

// containerd's snapshot kinds. Active snapshots are writable, views are read-only, committed
// snapshots are immutable parents of others.
enum class Kind { kUnknown = 0, kView = 1, kActive = 2, kCommitted = 3 };

// "view", "active", "committed" (the names containerd's filters use), "unknown".
std::string_view KindName(Kind kind);

using Labels = std::map<std::string, std::string>;

struct SnapshotInfo {
  std::string name;    // the key containerd chose (opaque: "<namespace>/<n>/<key>")
  std::string parent;  // name of the committed parent, empty for a base snapshot
  Kind kind = Kind::kUnknown;
  Labels labels;
  int64_t created_ns = 0;  // nanoseconds since the Unix epoch
  int64_t updated_ns = 0;
};

struct Usage {
  int64_t size = 0;    // bytes of allocated blocks, hard links counted once
  int64_t inodes = 0;  // distinct inodes
};

// One mount(2) the caller performs; containerd passes these to the runtime unchanged.
struct Mount {
  std::string type;  // "bind" or "overlay"
  std::string source;
  std::string target;  // always empty: the caller chooses where to mount
  std::vector<std::string> options;

  bool operator==(const Mount&) const = default;
};

}  // namespace tessera::snapshotter
