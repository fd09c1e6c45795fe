#!/usr/bin/env bash
# Builds the EROFS reader fuzzer (clang, libFuzzer + ASan/UBSan, `fuzz` preset), seeds it with
# real images (mkfs.erofs plain / chunked with a blob / chunked block map, and the Nydus
# bootstrap from shared testdata) and runs it for a bounded time.
#
# Usage: scripts/fuzz.sh            (FUZZ_SECONDS=60 by default)
# Exit status: 0 no crash found, 1 the fuzzer found a crash (the input is kept under
# build-fuzz/fuzz-artifacts/ and printed), 2 setup failure.
# The grown corpus is kept in build-fuzz/fuzz-corpus/erofs_reader/ so later runs start from it.
# A second target, the tar importer, a third, the HTTP request parser, and a fourth, the OCI
# decoders, run after it for the same time each (see the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds="${FUZZ_SECONDS:-60}"
nydus_boot="${NYDUS_BOOT:-$root/../shared/testdata/nydus/rafs-v6-2.2.boot}"

cmake --preset fuzz >/dev/null || { echo "fuzz.sh: configure failed" >&2; exit 2; }
cmake --build --preset fuzz --target erofs_reader_fuzz || { echo "fuzz.sh: build failed" >&2; exit 2; }
fuzzer="$root/build-fuzz/bin/erofs_reader_fuzz"

work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
corpus="$root/build-fuzz/fuzz-corpus/erofs_reader"
artifacts="$root/build-fuzz/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts" "$work/seeds" "$work/src/sub/inner"

# run_fuzzer FUZZER CORPUS SEEDS WHAT: runs one target for $seconds; exits 1 on a crash (the
# inputs that reproduce it are kept under $artifacts and printed).
run_fuzzer() {
  local fuzzer=$1 corpus=$2 seeds=$3 what=$4 status found
  echo "fuzz.sh: running $fuzzer for ${seconds}s"
  touch "$work/$what.start"
  set +e
  "$fuzzer" "$corpus" "$seeds" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 |
    grep -v -e ' NEW ' -e ' REDUCE ' -e ' pulse '
  status=${PIPESTATUS[0]}
  set -e
  found=$(find "$artifacts" -type f -newer "$work/$what.start")
  if [ "$status" -ne 0 ] || [ -n "$found" ]; then
    echo "fuzz.sh: FAILED ($what fuzzer exit $status); inputs that reproduce it:" >&2
    echo "${found:-(none saved)}" >&2
    echo "reproduce with: $fuzzer <input>" >&2
    exit 1
  fi
  echo "fuzz.sh: $what: no crash in ${seconds}s; corpus: $(ls "$corpus" | wc -l) inputs in $corpus"
}


# A small tree with the features the reader parses: inline and block data, a symlink, nested
# directories, xattrs (shared ones too), a fifo.
printf 'hello erofs\n' >"$work/src/a.txt"
head -c 10000 /dev/urandom >"$work/src/sub/data.bin"
printf 'z' >"$work/src/sub/inner/z"
ln -s a.txt "$work/src/link"
mkfifo "$work/src/fifo"
for i in 1 2 3 4; do printf '%s' "$i" >"$work/src/s$i"; done
if command -v setfattr >/dev/null; then
  setfattr -n user.note -v abc "$work/src/a.txt"
  for i in 1 2 3 4; do setfattr -n user.shared -v same "$work/src/s$i"; done
fi
if command -v mkfs.erofs >/dev/null; then
  mkfs.erofs --quiet -T0 "$work/seeds/plain.erofs" "$work/src"
  mkfs.erofs --quiet "$work/seeds/extended.erofs" "$work/src"
  mkfs.erofs --quiet -T0 --chunksize=4096 --blobdev="$work/blob.img" "$work/seeds/chunked.erofs" "$work/src"
  mkfs.erofs --quiet -T0 --chunksize=8192 "$work/seeds/blockmap.erofs" "$work/src"
else
  echo "fuzz.sh: mkfs.erofs not installed; seeding with the Nydus bootstrap only" >&2
fi
[ -r "$nydus_boot" ] && cp "$nydus_boot" "$work/seeds/nydus.boot"

run_fuzzer "$fuzzer" "$corpus" "$work/seeds" "EROFS reader"

# Second target: the tar importer (builder/src/tar), seeded with small layer tars made by GNU tar
# (pax with xattrs and sparse files, gnu, ustar; gzip and zstd), run for the same bounded time.
# Its grown corpus is kept in build-fuzz/fuzz-corpus/tar_import/.
cmake --build --preset fuzz --target tar_import_fuzz || { echo "fuzz.sh: build failed" >&2; exit 2; }
tar_fuzzer="$root/build-fuzz/bin/tar_import_fuzz"
tar_corpus="$root/build-fuzz/fuzz-corpus/tar_import"
tar_src="$work/tar-src"
mkdir -p "$tar_corpus" "$work/tar-seeds" "$tar_src/d/sub" "$tar_src/$(printf 'n%.0s' {1..120})"
printf 'hello\n' >"$tar_src/a"
head -c 3000 /dev/urandom >"$tar_src/d/bin"
ln "$tar_src/a" "$tar_src/d/hard"
ln -s ../a "$tar_src/d/sym"
ln -s "$(printf 't%.0s' {1..150})" "$tar_src/longlink"
mkfifo "$tar_src/fifo"
touch "$tar_src/d/.wh.gone" "$tar_src/d/sub/.wh..wh..opq" "$tar_src/$(printf 'n%.0s' {1..120})/f"
truncate -s 20000 "$tar_src/sparse"
printf 'x' | dd of="$tar_src/sparse" bs=1 seek=9000 conv=notrunc status=none
if [ "$(id -u)" -eq 0 ]; then mknod "$tar_src/chr" c 1 3; fi
if command -v setfattr >/dev/null; then setfattr -n user.k -v v "$tar_src/a"; fi
touch -d '@1600000000.123456789' "$tar_src/a"
tar -b1 --format=pax --xattrs --xattrs-include='*' --sparse -cf "$work/tar-seeds/pax.tar" -C "$tar_src" .
tar -b1 --format=gnu --sparse -cf "$work/tar-seeds/gnu.tar" -C "$tar_src" .
# ustar cannot hold the long names; it skips them (exit 2) and still writes the rest.
tar -b1 --format=ustar -cf "$work/tar-seeds/ustar.tar" -C "$tar_src" . 2>/dev/null || true
gzip -k "$work/tar-seeds/pax.tar"
zstd -q "$work/tar-seeds/gnu.tar" -o "$work/tar-seeds/gnu.tar.zst"

run_fuzzer "$tar_fuzzer" "$tar_corpus" "$work/tar-seeds" "tar importer"

# Third target: the HTTP/1.1 request parser of the API server (common/src/http/wire.h),
# seeded with well-formed and hostile requests, run for the same bounded time. Its grown corpus
# is kept in build-fuzz/fuzz-corpus/http_request/.
cmake --build --preset fuzz --target http_request_fuzz || { echo "fuzz.sh: build failed" >&2; exit 2; }
http_fuzzer="$root/build-fuzz/bin/http_request_fuzz"
http_corpus="$root/build-fuzz/fuzz-corpus/http_request"
http_seeds="$work/http-seeds"
mkdir -p "$http_corpus" "$http_seeds"
# Byte 0 selects the limits and slice size (see the target); the rest is the request stream.
printf '\x00GET /api/v1/daemon HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$http_seeds/get"
printf '\x07POST /api/v1/mounts HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"mountpoint":1}GET /x HTTP/1.0\r\n\r\n' >"$http_seeds/post-pipelined"
printf '\x01DELETE /api/v1/mounts?mountpoint=%%2Fmnt%%2Fa%%20b&x HTTP/1.1\r\nConnection: close\r\n\r\n' >"$http_seeds/delete-query"
printf '\x00POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody' >"$http_seeds/expect"
printf '\x00POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' >"$http_seeds/chunked"
printf '\x00HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' >"$http_seeds/response"

run_fuzzer "$http_fuzzer" "$http_corpus" "$http_seeds" "HTTP request parser"

# Fourth target: the OCI decoders (oci/: manifest, index, config, challenges, references, the
# bootstrap layer), seeded with small valid documents (byte 0 picks the decoder), run for the same
# bounded time. Its grown corpus is kept in build-fuzz/fuzz-corpus/oci_manifest/.
cmake --build --preset fuzz --target oci_manifest_fuzz || { echo "fuzz.sh: build failed" >&2; exit 2; }
oci_fuzzer="$root/build-fuzz/bin/oci_manifest_fuzz"
oci_corpus="$root/build-fuzz/fuzz-corpus/oci_manifest"
oci_seeds="$work/oci-seeds"
mkdir -p "$oci_corpus" "$oci_seeds"
d64=$(printf 'a%.0s' {1..64})
desc='{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$d64'","size":3,"annotations":{"io.tessera.image.bootstrap":"true"}}'
printf '\x00{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' "$desc" "$desc" >"$oci_seeds/manifest"
printf '\x01{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":9,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}' "$d64" >"$oci_seeds/index"
printf '\x02{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"x"},{"empty_layer":true}]}' "$d64" >"$oci_seeds/config"
printf '\x03Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a/b:pull"' >"$oci_seeds/challenge"
printf '\x03127.0.0.1:5000/tessera/debian:v1@sha256:%s' "$d64" >"$oci_seeds/reference"
mkdir -p "$work/oci-tar/tessera" && head -c 3000 /dev/urandom >"$work/oci-tar/tessera/bootstrap"
{ printf '\x04'; tar --format=pax -cz -C "$work/oci-tar" tessera; } >"$oci_seeds/layer-pax.tgz"
{ printf '\x04'; tar --format=ustar -c -C "$work/oci-tar" tessera; } >"$oci_seeds/layer-ustar.tar"

run_fuzzer "$oci_fuzzer" "$oci_corpus" "$oci_seeds" "OCI decoders"
