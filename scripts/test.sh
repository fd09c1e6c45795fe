#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs
#   1. unit tests and style checks under AddressSanitizer + UBSan (build-asan/),
#   2. integration tests (real kernel and FUSE mounts, fsck.erofs, mkfs.erofs, GNU tar, overlayfs)
#      on the release build (build/), then the daemon tests again with an ASan/UBSan tesserad,
#   3. the libFuzzer targets for a bounded time (build-fuzz/; FUZZ_SECONDS, default 60 each).
# Needs root (mounts). Prints one closing line "total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log_dir="${TESSERA_TEST_LOG_DIR:-$(mktemp -d /tmp/tessera-test.XXXXXX)}"
mkdir -p "$log_dir"

bash scripts/setup.sh || exit 1
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: the integration tests mount filesystems and need root" >&2
  exit 1
fi

start=$(date +%s)
echo "== build (release)"
bash scripts/build.sh release || exit 1
echo "== build (asan-ubsan: unit tests only)"
bash scripts/build.sh asan-ubsan tessera-image tesserad tesseractl common_test erofs_test \
  storage_test builder_test support_test nydusd_client_test snapshotter_test oci_test || exit 1

passed=0
failed=0
# Runs ctest and adds its counts to the totals.
run_ctest() {
  local name="$1"
  shift
  echo "== ctest: $name"
  ctest "$@" --output-on-failure --timeout 900 2>&1 | tee "$log_dir/$name.log"
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log_dir/$name.log" | tail -1)
  if [ -z "$line" ]; then
    echo "test.sh: $name ran no tests" >&2
    failed=$((failed + 1))
    return
  fi
  local total fail
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  fail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  passed=$((passed + total - fail))
  failed=$((failed + fail))
}

run_ctest unit --test-dir build-asan -L unit -j2
run_ctest integration --test-dir build -LE unit
# The integration run above serves FUSE through /dev/fuse (the fuse module's enable_uring is off
# by default). The daemon tests again with FUSE over io_uring (the fixture turns the parameter on
# for each test and back off; a kernel without it skips them, saying so): with the release
# tesserad, then with build-asan's (ASan/UBSan), where the takeover tests cover /dev/fuse.
TESSERA_FUSE_URING=1 run_ctest daemon-uring --test-dir build -R 'DaemonTest\.|DaemonPushTest\.'
TESSERA_FUSE_URING=1 TESSERA_BIN_DIR="$PWD/build-asan/bin" run_ctest daemon-asan --test-dir build \
  -R 'DaemonTest\.(ConcurrentReadersGetExactBytes|ServesTreeColdAndWarm|CorruptChunk.*|RestartReads.*)|DaemonTakeoverTest\.|DaemonPushTest\.'

echo "== fuzz"
if FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh; then
  passed=$((passed + 1))
else
  echo "test.sh: fuzzing found a problem (see above)" >&2
  failed=$((failed + 1))
fi

echo "== done in $(($(date +%s) - start)) s; logs in $log_dir"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
