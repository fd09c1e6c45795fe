#!/usr/bin/env bash
# The main job: installs what it needs, builds Tessera, converts a real directory into a Tessera
# image (chunked, deduplicated, compressed blob + EROFS bootstrap), serves it lazily through FUSE
# with tesserad, reads a little of it, and prints what had to be fetched. Then it checks the image
# against the source and with erofs-utils' fsck.erofs.
# Usage: scripts/demo.sh [SOURCE_DIR]   (default /usr/share/doc). Needs root (FUSE, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-/usr/share/doc}"

bash scripts/setup.sh >/dev/null
echo "== building (release preset, build/bin/)"
bash scripts/build.sh release tessera-image tesserad tesseractl >/dev/null
bin=build/bin

work=$(mktemp -d /tmp/tessera-demo.XXXXXX)
mnt="$work/mnt"
sock="$work/api.sock"
mkdir -p "$mnt" "$work/blobs" "$work/cache" "$work/raw"
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && sleep 1
  umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== tessera-image create $src"
$bin/tessera-image create --bootstrap "$work/image.boot" --blob-dir "$work/blobs" "$src"
$bin/tessera-image check --bootstrap "$work/image.boot" --blob-dir "$work/blobs"

echo "== tesserad: serving the image lazily at $mnt"
$bin/tesserad --bootstrap "$work/image.boot" --blob-dir "$work/blobs" --mountpoint "$mnt" \
  --cache-dir "$work/cache" --apisock "$sock" 2>"$work/tesserad.log" &
daemon_pid=$!
for _ in $(seq 50); do grep -q " $mnt " /proc/mounts && break; sleep 0.1; done
grep -q " $mnt " /proc/mounts || { cat "$work/tesserad.log"; exit 1; }

entries=$(find "$mnt" | wc -l)
echo "   listed $entries entries (metadata only: the bootstrap)"
picked=$(cd "$src" && find . -type f -size +20k | sort | head -n 3)
for f in $picked; do
  cmp "$src/$f" "$mnt/$f" && echo "   read $f ($(stat -c %s "$src/$f") bytes): identical to the source"
done

metric() { $bin/tesseractl --apisock "$sock" metrics | awk -v n="$1" '$1 == n {print $2}'; }
fetched=$(metric tessera_backend_read_bytes_total)
requests=$(metric tessera_backend_requests_total)
image=$(( $(du -sb "$work/blobs" | cut -f1) + $(stat -c %s "$work/image.boot") ))
echo "== fetched on demand: $fetched bytes in $requests backend requests, of a $image-byte image ($(echo "scale=2; 100 * $fetched / $image" | bc)%)"
$bin/tesseractl --apisock "$sock" status

echo "== full comparison with the source through the FUSE mount"
diff -r --no-dereference "$src" "$mnt" && echo "   contents identical"
echo "   after reading everything: $(metric tessera_backend_read_bytes_total) bytes fetched"
kill "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""

echo "== the kernel mounts the bootstrap with tesserad's cache files as devices"
devs=$($bin/tessera-image inspect --bootstrap "$work/image.boot" --json |
  python3 -c "import json,sys; print(','.join('device=$work/cache/'+b['id']+'.raw' for b in json.load(sys.stdin)['blobs']))")
fsck.erofs $(echo "$devs" | sed 's/device=/--device=/g; s/,/ /g') "$work/image.boot" && echo "   fsck.erofs: ok"
python3 -c "import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(l.mount(b'$work/image.boot', b'$mnt', b'erofs', 1, b'$devs'))"
diff -r --no-dereference "$src" "$mnt" && echo "   kernel EROFS mount identical to the source"
umount "$mnt"
