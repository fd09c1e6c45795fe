#!/usr/bin/env bash
# The main job: installs what it needs, builds Tessera, then turns a real directory into an EROFS
# image with our writer, checks it with our reader and with erofs-utils' fsck.erofs, mounts it with
# the Linux kernel, compares the mounted tree with the source and prints a summary.
# Usage: scripts/demo.sh [SOURCE_DIR]   (default /usr/share/doc). Needs root for the mount.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-/usr/share/doc}"

bash scripts/setup.sh >/dev/null
echo "== building (release preset, build/bin/)"
bash scripts/build.sh release tessera-image >/dev/null

work=$(mktemp -d /tmp/tessera-demo.XXXXXX)
mnt="$work/mnt"
mkdir -p "$mnt"
cleanup() {
  umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

img="$work/image.erofs"
echo "== tessera-image mkfs $src"
build/bin/tessera-image mkfs "$src" "$img"

echo "== tessera-image dump (our reader walks every inode)"
entries=$(build/bin/tessera-image dump "$img" | tee "$work/dump.txt" | wc -l)
head -n 12 "$work/dump.txt"
echo "   ... $entries lines"

echo "== fsck.erofs (erofs-utils)"
fsck.erofs "$img"

echo "== kernel mount and comparison with the source"
mount -t erofs -o ro,loop "$img" "$mnt"
diff -r --no-dereference "$src" "$mnt" && echo "   contents identical"
src_meta=$(cd "$src" && find . -printf '%p %M %U:%G %s %T@ %l\n' | sort | sha256sum)
img_meta=$(cd "$mnt" && find . -printf '%p %M %U:%G %s %T@ %l\n' | sort | sha256sum)
if [ "$src_meta" = "$img_meta" ]; then echo "   names, modes, owners, sizes, mtimes and links identical"; else echo "   METADATA DIFFERS"; exit 1; fi

files=$(find "$src" | wc -l)
src_bytes=$(du -sb --apparent-size "$src" | cut -f1)
img_bytes=$(stat -c %s "$img")
echo "== summary: $files entries, source $src_bytes bytes (apparent), image $img_bytes bytes"
