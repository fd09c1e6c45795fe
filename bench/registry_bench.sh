#!/usr/bin/env bash
# Registry benchmark (issue 5): time from "nothing local" to a container-like first run, and the
# bytes it moved over the network, for
#   pull   skopeo copy of the OCI image + umoci unpack, then the workload on the unpacked tree
#   lazy   tesserad --image (Tessera image converted by `tessera-image convert`), then the
#          workload on its FUSE mount; chunks come from the registry on demand
# over two links to the same docker-registry: "loopback" (no shaping) and "limited" (a veth pair
# into a network namespace made here, shaped with netem: RATE and DELAY each way).
#
#   bench/registry_bench.sh [ROOTFS]  default: /var/cache/tessera-rootfs/minbase-py, made with
#                                     debootstrap --variant=minbase --include=python3 if missing
#   RATE=24mbit DELAY=10ms            link shaping (24 Mbit/s ~ 3 MB/s; RTT = 2 x DELAY)
#   WORKLOAD='python3 -c pass'        run with chroot in the tree
#   ROUNDS=1                          repetitions (each from an empty cache and an empty dir)
# Needs root (netns, mounts, chroot), docker-registry, skopeo, umoci. Prints figures; asserts
# nothing. Cleans up its namespace, registry, daemon and files on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin="$repo/build/bin"
rootfs="${1:-/var/cache/tessera-rootfs/minbase-py}"
rate="${RATE:-24mbit}"
delay="${DELAY:-10ms}"
workload="${WORKLOAD:-python3 -c pass}"
rounds="${ROUNDS:-1}"

[ "$(id -u)" = 0 ] || { echo "registry_bench: needs root" >&2; exit 1; }
for tool in docker-registry skopeo umoci ip tc curl chroot; do
  command -v "$tool" >/dev/null || { echo "registry_bench: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done
bash scripts/build.sh release tessera-image tesserad tesseractl >/dev/null

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }

work=$(mktemp -d /tmp/tessera-registry-bench.XXXXXX)
ns="tsb$$"
veth_host="tsbh$$"
veth_ns="tsbn$$"
host_ip=10.203.0.1
ns_ip=10.203.0.2
port=$((20000 + $$ % 20000))
reg_pid=""

cleanup() {
  set +e
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
  ip netns del "$ns" 2>/dev/null
  ip link del "$veth_host" 2>/dev/null
  for m in $(awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts); do umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$rootfs/usr/bin/python3" ]; then
  say "== debootstrap minbase + python3 into $rootfs (once; minutes)"
  mkdir -p "$(dirname "$rootfs")"
  debootstrap --variant=minbase --include=python3 bookworm "$rootfs.tmp" >"$rootfs.log" 2>&1
  mv "$rootfs.tmp" "$rootfs"
fi

say "== OCI image of $rootfs (umoci, one gzip layer)"
layout="$work/oci"
umoci init --layout "$layout"
umoci new --image "$layout:v1"
umoci unpack --image "$layout:v1" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$layout:v1" "$work/bundle" >/dev/null
rm -rf "$work/bundle"

say "== network: veth $veth_host ($host_ip) <-> $veth_ns ($ns_ip) in netns $ns"
ip netns add "$ns"
ip link add "$veth_host" type veth peer name "$veth_ns" netns "$ns"
ip addr add "$host_ip/24" dev "$veth_host"
ip link set "$veth_host" up
ip -n "$ns" addr add "$ns_ip/24" dev "$veth_ns"
ip -n "$ns" link set "$veth_ns" up
ip -n "$ns" link set lo up

say "== docker-registry on $host_ip:$port"
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $host_ip:$port}
log: {level: error, accesslog: {disabled: false}}
EOF
docker-registry serve "$work/registry.yml" >"$work/access.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://$host_ip:$port/v2/" >/dev/null && break; sleep 0.1; done
reg="$host_ip:$port"
skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$reg/bench/py:v1"
"$bin/tessera-image" convert --source "$reg/bench/py:v1" --target "$reg/bench/py:tessera" \
  --plain-http --json >"$work/convert.json"
oci_bytes=$(skopeo inspect --raw --tls-verify=false "docker://$reg/bench/py:v1" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]) + m["config"]["size"])')
tessera_bytes=$(skopeo inspect --raw --tls-verify=false "docker://$reg/bench/py:tessera" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]) + m["config"]["size"])')

# Bytes the registry sent (response bodies) in access-log lines after line $1.
served_since() {
  tail -n +"$(($1 + 1))" "$work/access.log" |
    awk '$0 ~ /HTTP\/1\.[01]" [0-9]+ [0-9]+/ {for (i = 1; i < NF; i++) if ($i ~ /HTTP\/1\.[01]"$/) {s += $(i + 2); break}} END {print s + 0}'
}

# run_case LINK MODE ROUND: prints "seconds bytes"
run_case() {
  local link=$1 mode=$2 dir="$work/run-$1-$2-$3" exec_in=() log_lines start end
  mkdir -p "$dir"
  [ "$link" = limited ] && exec_in=(ip netns exec "$ns")
  log_lines=$(wc -l <"$work/access.log")
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
    if [ "$link" = limited ]; then
      tc qdisc replace dev "$veth_host" root netem rate "$rate" delay "$delay"
      tc -n "$ns" qdisc replace dev "$veth_ns" root netem delay "$delay"
    fi
    for mode in pull lazy; do
      read -r s b < <(run_case "$link" "$mode" "$r")
      secs[$link.$mode]+="$s "
      bytes[$link.$mode]+="$b "
      say "   round $r $link $mode: ${s} s, $b bytes"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "registry benchmark  $(date -u '+%F %T') UTC   commit $(git rev-parse --short HEAD)"
echo "tree $rootfs; workload: chroot TREE $workload; limited link: $rate, delay $delay each way"
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
