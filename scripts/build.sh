#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Usage: scripts/build.sh [PRESET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths relative to the checkout and no working-directory hash, so clones of the
# repository at other paths (a clean-clone CI run) reuse each other's compilations.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
preset="${1:-release}"
shift || true
cmake --preset "$preset" >/dev/null
if [ "$#" -gt 0 ]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
