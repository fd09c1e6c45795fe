#include "mounts/mounts.h"

namespace tessera::snapshotter::internal {
namespace {

Mount Bind(const std::string& source, bool read_only) {
  return Mount{.type = "bind",
               .source = source,
               .target = "",
               .options = {read_only ? "ro" : "rw", "rbind"}};
}

std::string JoinLowers(const std::vector<std::string>& dirs) {
  std::string out = "lowerdir=";
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (i > 0) out += ':';
    out += dirs[i];
  }
  return out;
}

}  // namespace

std::vector<Mount> ComputeMounts(const MountPlan& plan) {
  const bool active = plan.kind == Kind::kActive;
  if (plan.lower_dirs.empty()) return {Bind(plan.fs_dir, !active)};
  if (!active && plan.lower_dirs.size() == 1) return {Bind(plan.lower_dirs.front(), true)};
  Mount overlay{.type = "overlay", .source = "overlay", .target = "", .options = {}};
  if (plan.index_off) overlay.options.push_back("index=off");
  if (active) {
    overlay.options.push_back("workdir=" + plan.work_dir);
    overlay.options.push_back("upperdir=" + plan.fs_dir);
  }
  overlay.options.push_back(JoinLowers(plan.lower_dirs));
  return {overlay};
}

}  // namespace tessera::snapshotter::internal
