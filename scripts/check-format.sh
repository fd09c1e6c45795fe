#!/usr/bin/env bash
# Fails if any tracked C++ file differs from what clang-format (the repo's .clang-format) wants.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h')
if [ "${#files[@]}" -eq 0 ]; then echo "check-format: no files"; exit 1; fi
clang-format --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files clean"
