#!/usr/bin/env bash
# Builder benchmark: image size, wall time and CPU of `tessera-image create` next to its peers,
# all on the same tree in one run (interleaved rounds, median of ROUNDS).
#   bench/builder_bench.sh [TREE]      default: a Debian minbase rootfs if $TESSERA_ROOTFS is set,
#                                      else /usr/share (real files from this machine)
# Prints one row per tool: output bytes, % of the tree's file bytes, wall s, CPU s.
set -euo pipefail
cd "$(dirname "$0")/.."
tree="${1:-${TESSERA_ROOTFS:-/usr/share}}"
rounds="${ROUNDS:-3}"
bin=build/bin/tessera-image
[ -x "$bin" ] || bash scripts/build.sh release tessera-image >/dev/null
for tool in mkfs.erofs mksquashfs zstd gzip; do
  command -v "$tool" >/dev/null || { echo "builder_bench: $tool missing (run scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/tessera-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
data_bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

# name|command producing output under $out ; size = bytes under $out
declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "tessera zstd" "$bin create -q --bootstrap \$out/boot --blob-dir \$out '$tree'"
add "tessera lz4" "$bin create -q --compression lz4 --bootstrap \$out/boot --blob-dir \$out '$tree'"
add "tessera cdc zstd" "$bin create -q --chunking cdc --bootstrap \$out/boot --blob-dir \$out '$tree'"
add "mkfs.erofs plain" "mkfs.erofs \$out/img '$tree'"
add "mkfs.erofs lz4hc" "mkfs.erofs -zlz4hc \$out/img '$tree'"
add "mkfs.erofs chunked" "mkfs.erofs --chunksize=1048576 --blobdev=\$out/blob \$out/img '$tree'"
add "mksquashfs zstd" "mksquashfs '$tree' \$out/sq -comp zstd -processors 2 -no-progress -quiet"
add "tar | zstd -3" "tar -C '$tree' -cf - . 2>/dev/null | zstd -3 -q -T2 > \$out/t.zst"
add "tar | gzip -6" "tar -C '$tree' -cf - . 2>/dev/null | gzip -6 > \$out/t.gz"

declare -A sizes walls cpus
for ((r = 1; r <= rounds; r++)); do
  for i in "${!names[@]}"; do
    out="$work/$i"
    rm -rf "$out" && mkdir -p "$out"
    t=$( { /usr/bin/time -f '%e %U %S' bash -c "out=$out; ${cmds[$i]}" >/dev/null 2>"$work/err"; } 2>&1; tail -1 "$work/err")
    read -r wall user sys <<<"$t"
    sizes[$i]=$(du -sb --apparent-size "$out" | cut -f1)
    walls[$i]="${walls[$i]:-} $wall"
    cpus[$i]="${cpus[$i]:-} $(echo "$user + $sys" | bc)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf 'tree %s: %s bytes of file data, %s rounds (median)\n' "$tree" "$data_bytes" "$rounds"
printf '%-20s %14s %8s %8s %8s\n' tool bytes '%data' wall_s cpu_s
for i in "${!names[@]}"; do
  pct=$(echo "scale=1; 100 * ${sizes[$i]} / $data_bytes" | bc)
  printf '%-20s %14s %8s %8s %8s\n' "${names[$i]}" "${sizes[$i]}" "$pct" \
    "$(echo "${walls[$i]}" | median)" "$(echo "${cpus[$i]}" | median)"
done
