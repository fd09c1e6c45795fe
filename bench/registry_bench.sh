#!/usr/bin/env bash
# Registry benchmark (issue 5): time from "nothing local" to a container-like first run, and the
# bytes it moved over the network, for
#   pull   skopeo copy of the OCI image + umoci unpack, then the workload on the unpacked tree
#   lazy   tesserad --image (Tessera image converted by `tessera-image convert`), then the
#          workload on its FUSE mount; chunks come from the registry on demand
# over two links to the same docker-registry (on 127.0.0.1): "loopback" (no shaping) and
# "limited": the clients run in a network namespace made here and reach the registry over a veth
# pair whose host side is rate-limited with a tbf qdisc (RATE), through a relay that adds DELAY
# each way (bench/delay_proxy.py: this kernel has no netem qdisc, CONFIG_NET_SCH_NETEM unset).
#
#   bench/registry_bench.sh [ROOTFS]  default: /var/cache/tessera-rootfs/minbase-py, made with
#                                     debootstrap --variant=minbase --include=python3 if missing
#   RATE=24mbit DELAY=0.01            link shaping (24 Mbit/s ~ 3 MB/s; DELAY seconds each way,
#                                     so RTT = 2 x DELAY)
#   WORKLOAD='python3 -c pass'        run with chroot in the tree
#   ROUNDS=1                          repetitions (each from an empty cache and an empty dir)
#   CONVERT_ARGS="..."                extra `tessera-image convert` options (e.g. --chunk-size 256K)
# Needs root (netns, mounts, chroot), docker-registry, skopeo, umoci. Prints figures; asserts
# nothing. Cleans up its namespace, registry, daemon and files on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin="$repo/build/bin"
rootfs="${1:-/var/cache/tessera-rootfs/minbase-py}"
workload="${WORKLOAD:-python3 -c pass}"
rounds="${ROUNDS:-1}"
read -r -a convert_args <<<"${CONVERT_ARGS:-}"

source "$repo/bench/lib_registry.sh"

[ "$(id -u)" = 0 ] || { echo "registry_bench: needs root" >&2; exit 1; }
for tool in docker-registry skopeo umoci ip tc curl chroot; do
  command -v "$tool" >/dev/null || { echo "registry_bench: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done
bash scripts/build.sh release tessera-image tesserad tesseractl >/dev/null

lib_init registry-bench
cleanup() {
  set +e
  lib_cleanup
}
trap cleanup EXIT

ensure_rootfs "$rootfs"
layout="$work/oci"
make_oci_image "$rootfs" "$layout"
registry_up
skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$reg/bench/py:v1"
"$bin/tessera-image" convert --source "$reg/bench/py:v1" --target "$reg/bench/py:tessera" \
  --plain-http --json "${convert_args[@]}" >"$work/convert.json"
oci_bytes=$(image_bytes "$reg/bench/py:v1")
tessera_bytes=$(image_bytes "$reg/bench/py:tessera")

# run_case LINK MODE ROUND: prints "seconds bytes"
run_case() {
  local link=$1 mode=$2 dir="$work/run-$1-$2-$3" exec_in=() log_lines start end reg="$reg"
  mkdir -p "$dir"
  if [ "$link" = limited ]; then
    exec_in=(ip netns exec "$ns")
    reg="$host_ip:$proxy_port"
  fi
  log_lines=$(access_lines)
  sync
  echo 3 >/proc/sys/vm/drop_caches
  start=$(now)
  if [ "$mode" = pull ]; then
    "${exec_in[@]}" bash -c "set -e
      skopeo copy -q --src-tls-verify=false docker://$reg/bench/py:v1 oci:$dir/oci:v1
      umoci unpack --image $dir/oci:v1 $dir/bundle >/dev/null
      chroot $dir/bundle/rootfs $workload"
  else
    "${exec_in[@]}" bash -c "set -e
      mkdir -p $dir/mnt $dir/cache
      $bin/tesserad --image $reg/bench/py:tessera --plain-http --mountpoint $dir/mnt \
        --cache-dir $dir/cache --apisock $dir/api.sock >$dir/tesserad.log 2>&1 &
      pid=\$!
      trap 'kill \$pid 2>/dev/null; wait \$pid 2>/dev/null; umount -l $dir/mnt 2>/dev/null || true' EXIT
      for i in \$(seq 600); do
        grep -q ' $dir/mnt ' /proc/mounts && break
        kill -0 \$pid 2>/dev/null || { cat $dir/tesserad.log >&2; exit 1; }
        sleep 0.05
      done
      chroot $dir/mnt $workload
      $bin/tesseractl --apisock $dir/api.sock metrics >$dir/metrics.txt"
  fi
  end=$(now)
  echo "$(echo "$end - $start" | bc) $(served_since "$log_lines")"
}

say "== measuring ($rounds round(s)); workload: chroot TREE $workload"
declare -A secs bytes
for r in $(seq "$rounds"); do
  for link in loopback limited; do
    for mode in pull lazy; do
      read -r s b < <(run_case "$link" "$mode" "$r")
      secs[$link.$mode]+="$s "
      bytes[$link.$mode]+="$b "
      say "   round $r $link $mode: ${s} s, $b bytes"
    done
  done
done

echo "registry benchmark  $(date -u '+%F %T') UTC   commit $(git rev-parse --short HEAD)"
echo "convert options: ${CONVERT_ARGS:-defaults}"
echo "tree $rootfs; workload: chroot TREE $workload; limited link: tbf $rate, relay delay ${delay}s each way"
echo "OCI image $oci_bytes B (gzip layers + config); Tessera image $tessera_bytes B (blobs + bootstrap layer + config)"
printf '%-9s %-5s %9s %13s %9s\n' link mode seconds bytes_served pct_of_oci
for link in loopback limited; do
  for mode in pull lazy; do
    s=$(echo "${secs[$link.$mode]}" | median)
    b=$(echo "${bytes[$link.$mode]}" | median)
    printf '%-9s %-5s %9.2f %13d %8.1f%%\n' "$link" "$mode" "$s" "$b" "$(echo "100 * $b / $oci_bytes" | bc -l)"
  done
  sp=$(echo "${secs[$link.pull]}" | median)
  sl=$(echo "${secs[$link.lazy]}" | median)
  printf '%-9s speed-up pull/lazy: %.1fx\n' "$link" "$(echo "$sp / $sl" | bc -l)"
done
