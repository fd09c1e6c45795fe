#!/usr/bin/env bash
# containerd benchmark (issue 6): time from the start of the pull to the container's first
# output line, and the bytes the registry served until then, for
#   oci      `ctr image pull --plain-http REF` (one gzip layer) + `ctr run --rm REF id WORKLOAD`,
#            containerd's own overlayfs snapshotter
#   tessera  `tesseractl pull --plain-http --snapshotter tessera REF` (the image converted by
#            `tessera-image convert`) + `ctr run --rm --snapshotter tessera REF id WORKLOAD`;
#            tessera-snapshotter (default config: one shared tesserad) mounts the image lazily
# over two links to one docker-registry on 127.0.0.1 (set up by bench/lib_registry.sh, as in
# registry_bench.sh): "loopback" (no shaping) and "limited" (tbf RATE on a veth into a network
# namespace + bench/delay_proxy.py adding DELAY each way; this kernel has no netem).
#
# How the limited case reaches the registry: containerd, tessera-snapshotter (and so the tesserad
# it starts) and the clients (ctr, tesseractl) all run in the benchmark's network namespace, but
# entered with `nsenter --net` only, not `ip netns exec` (which also unshares a mount namespace):
# they keep the host mount namespace, so the FUSE and overlay mounts, runc and the shims work as
# in the loopback case and the cleanup sees every mount. Inside the namespace a second relay (no
# delay) listens on 127.0.0.1:PORT and forwards to the delay relay on the veth, so the image
# references are the same on both links and the snapshotter's `plain_http_loopback` rule (plain
# http only for loopback registries) applies unchanged. `ctr image pull` fetches in the ctr
# process and tesserad fetches the chunks, so all registry traffic of both cases crosses the link.
#
# Every case starts from nothing local: a fresh containerd + tessera-snapshotter with new, empty
# root/state/content/snapshot/cache directories, torn down (images removed, processes killed by
# PID, mounts detached, directories deleted) before the next case; page cache dropped before it.
#
#   bench/containerd_bench.sh [ROOTFS]  default /var/cache/tessera-rootfs/minbase-py (debootstrap
#                                       minbase + python3, made if missing)
#   RATE=24mbit DELAY=0.01              limited link (24 Mbit/s ~ 3 MB/s; DELAY s each way)
#   WORKLOAD='python3 -c print(1)'      the container's command (split on spaces)
#   ROUNDS=1                            repetitions, round-robin over links and modes; medians
#   CONVERT_ARGS="..."                  extra `tessera-image convert` options
# Needs root, containerd 1.6 + ctr + runc, docker-registry, skopeo, umoci, nsenter. Prints
# figures; asserts nothing. Cleans up everything it started on exit, Ctrl-C or SIGTERM
# (including /run/containerd if it made it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin="$repo/build/bin"
rootfs="${1:-/var/cache/tessera-rootfs/minbase-py}"
rounds="${ROUNDS:-1}"
read -r -a workload <<<"${WORKLOAD:-python3 -c print(1)}"
read -r -a convert_args <<<"${CONVERT_ARGS:-}"
source "$repo/bench/lib_registry.sh"

[ "$(id -u)" = 0 ] || { echo "containerd_bench: needs root" >&2; exit 1; }
for tool in containerd ctr runc docker-registry skopeo umoci ip tc curl nsenter; do
  command -v "$tool" >/dev/null || { echo "containerd_bench: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done
bash scripts/build.sh release tessera-image tesserad tesseractl tessera-snapshotter >/dev/null

LIB_SUBNET="${LIB_SUBNET:-10.204.0}"  # not registry_bench's, so both can run at once
lib_init containerd-bench
run_containerd_existed=0
[ -e /run/containerd ] && run_containerd_existed=1
nsrelay_pid=""
stack=""  # directory of the running containerd + snapshotter, if any

# PIDs whose command line mentions $1 (our containerd, snapshotter, shims and tesserad all name
# a path under the case's directory).
pids_mentioning() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
  done
  return 0
}

stack_down() {
  [ -n "$stack" ] || return 0
  local d=$stack pre=() id
  stack=""
  [ -f "$d/netns" ] && pre=(nsenter --net="/run/netns/$ns")
  if [ -S "$d/containerd.sock" ]; then
    for id in $(timeout 20 ctr -a "$d/containerd.sock" tasks ls -q 2>/dev/null); do
      timeout 20 ctr -a "$d/containerd.sock" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
    done
    for id in $(timeout 20 ctr -a "$d/containerd.sock" images ls -q 2>/dev/null); do
      timeout 60 "${pre[@]}" ctr -a "$d/containerd.sock" images rm --sync "$id" >/dev/null 2>&1
    done
  fi
  for _ in 1 2; do
    pids_mentioning "$d/" | xargs -r kill -9 2>/dev/null
    sleep 0.2
  done
  umount_below "$d"
  rm -rf "$d"
}

cleanup() {
  set +e
  stack_down
  for link in loopback limited; do  # anything left by an interrupted case
    pids_mentioning "$work/$link-" | xargs -r kill -9 2>/dev/null
  done
  [ -n "$nsrelay_pid" ] && kill "$nsrelay_pid" 2>/dev/null && wait "$nsrelay_pid" 2>/dev/null
  lib_cleanup
  if [ "$run_containerd_existed" = 0 ]; then
    for sub in s fifo runc/default runc ""; do rmdir "/run/containerd/$sub" 2>/dev/null; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_rootfs "$rootfs"
make_oci_image "$rootfs" "$work/oci"
# ctr run takes the command's environment from the image config: give it a PATH.
umoci config --image "$work/oci:v1" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
registry_up
nsenter --net="/run/netns/$ns" python3 "$repo/bench/delay_proxy.py" 127.0.0.1 "$port" \
  "$host_ip" "$proxy_port" 0 &
nsrelay_pid=$!
for _ in $(seq 100); do
  nsenter --net="/run/netns/$ns" curl -fs "http://$reg/v2/" >/dev/null && break
  sleep 0.1
done
oci_ref="$reg/bench/py:v1"
tessera_ref="$reg/bench/py:tessera"
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:v1" "docker://$oci_ref"
say "== tessera-image convert"
"$bin/tessera-image" convert --source "$oci_ref" --target "$tessera_ref" --plain-http --json \
  "${convert_args[@]}" >"$work/convert.json"
oci_bytes=$(image_bytes "$oci_ref")
tessera_bytes=$(image_bytes "$tessera_ref")

# stack_up LINK DIR: a private containerd (config as tests/support/containerd_server.cc) with
# tessera-snapshotter as proxy plugin "tessera", in the netns for the limited link.
stack_up() {
  local link=$1 d=$2 pre=()
  mkdir -p "$d"
  stack=$d
  if [ "$link" = limited ]; then
    pre=(nsenter --net="/run/netns/$ns")
    touch "$d/netns"
  fi
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[proxy_plugins.tessera]
  type = "snapshot"
  address = "$d/snapshotter.sock"
EOF
  "${pre[@]}" "$bin/tessera-snapshotter" --root "$d/snap" --address "$d/snapshotter.sock" \
    >"$d/snapshotter.log" 2>&1 &
  disown  # killed by PID in stack_down; no "Killed" job notices
  for _ in $(seq 200); do [ -S "$d/snapshotter.sock" ] && break; sleep 0.05; done
  "${pre[@]}" containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  disown
  for _ in $(seq 300); do
    ctr -a "$d/containerd.sock" snapshots --snapshotter tessera ls >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  say "containerd or tessera-snapshotter did not come up:"
  tail -5 "$d/containerd.log" "$d/snapshotter.log" >&2
  return 1
}

# run_case LINK MODE ROUND: writes "pull_s first_s done_s bytes fetched" to $work/result
run_case() {
  local link=$1 mode=$2 d="$work/$1-$2-$3" pre=() log_lines start pulled first end fetched=-
  stack_up "$link" "$d"
  [ "$link" = limited ] && pre=(nsenter --net="/run/netns/$ns")
  local ctr=("${pre[@]}" ctr -a "$d/containerd.sock")
  local run=(run --rm --fifo-dir "$d/fifo" --runc-root "$d/runc")
  local pull ref
  if [ "$mode" = oci ]; then
    ref=$oci_ref
    pull=("${ctr[@]}" images pull --plain-http "$ref")
    run+=(--snapshotter overlayfs)
  else
    ref=$tessera_ref
    pull=("${pre[@]}" "$bin/tesseractl" --address "$d/containerd.sock" pull --plain-http
      --snapshotter tessera "$ref")
    run+=(--snapshotter tessera)
  fi
  log_lines=$(access_lines)
  sync
  echo 3 >/proc/sys/vm/drop_caches
  start=$(now)
  { "${pull[@]}" >"$d/pull.log" 2>&1 && now >"$d/pulled" &&
    "${ctr[@]}" "${run[@]}" "$ref" "bench-$mode" "${workload[@]}" 2>"$d/run.err"; } |
    { IFS= read -r line && now >"$d/first" && printf '%s\n' "$line" >"$d/out"; cat >>"$d/out"; } &
  wait $! || true  # in the background so that a SIGTERM to the script is handled at once
  end=$(now)
  if [ ! -s "$d/first" ]; then
    say "containerd_bench: $link $mode printed nothing"
    tail -5 "$d/pull.log" "$d/run.err" "$d/snapshotter.log" >&2
    return 1
  fi
  local bytes
  bytes=$(served_since "$log_lines")
  if [ "$mode" = tessera ]; then
    fetched=$("$bin/tesseractl" --apisock "$d/snap/tesserad/api.sock" metrics 2>/dev/null |
      awk '$1 == "tessera_backend_read_bytes_total" {print $2}')
    fetched=${fetched:--}
  fi
  pulled=$(cat "$d/pulled")
  first=$(cat "$d/first")
  stack_down
  echo "$(echo "$pulled - $start" | bc) $(echo "$first - $start" | bc) $(echo "$end - $start" | bc) $bytes $fetched" >"$work/result"
}

say "== measuring ($rounds round(s)); workload: ${workload[*]}"
declare -A pulls firsts totals bytes fetcheds
for r in $(seq "$rounds"); do
  for link in loopback limited; do
    for mode in oci tessera; do
      run_case "$link" "$mode" "$r"
      read -r p f t b x <"$work/result"
      pulls[$link.$mode]+="$p "
      firsts[$link.$mode]+="$f "
      totals[$link.$mode]+="$t "
      bytes[$link.$mode]+="$b "
      fetcheds[$link.$mode]+="$x "
      say "   round $r $link $mode: pull ${p} s, first output ${f} s, done ${t} s, $b bytes served"
    done
  done
done

dirty=$(git status --porcelain --untracked-files=no | wc -l)
echo "containerd benchmark  $(date -u '+%F %T') UTC   commit $(git rev-parse --short HEAD)$([ "$dirty" = 0 ] || echo " + $dirty uncommitted files")"
echo "kernel $(uname -r), $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg) at end; $(containerd --version | awk '{print $1, $3}')"
echo "tree $rootfs; container command: ${workload[*]}; rounds: $rounds (medians)"
echo "limited link: tbf $rate, relay delay ${delay}s each way; convert options: ${CONVERT_ARGS:-defaults}"
echo "OCI image $oci_bytes B (gzip layer + config); Tessera image $tessera_bytes B (blobs + bootstrap layer + config)"
echo "pull_s = pull command done; first_s = first output line of the container (the figure compared);"
echo "done_s = ctr run exited; served = registry response bytes until done_s (access log);"
echo "fetched = tesserad's tessera_backend_read_bytes_total at done_s"
printf '%-9s %-8s %7s %8s %7s %11s %8s %11s\n' link mode pull_s first_s done_s served pct_oci fetched
for link in loopback limited; do
  for mode in oci tessera; do
    k=$link.$mode
    b=$(echo "${bytes[$k]}" | median)
    x=$(echo "${fetcheds[$k]}" | tr ' ' '\n' | grep -v '^-\?$' | median || true)
    printf '%-9s %-8s %7.2f %8.2f %7.2f %11d %7.1f%% %11s\n' "$link" "$mode" \
      "$(echo "${pulls[$k]}" | median)" "$(echo "${firsts[$k]}" | median)" \
      "$(echo "${totals[$k]}" | median)" "$b" "$(echo "100 * $b / $oci_bytes" | bc -l)" "${x:--}"
  done
  so=$(echo "${firsts[$link.oci]}" | median)
  st=$(echo "${firsts[$link.tessera]}" | median)
  printf '%-9s speed-up to first output, oci/tessera: %.1fx\n' "$link" "$(echo "$so / $st" | bc -l)"
done
so=$(echo "${firsts[limited.oci]}" | median)
st=$(echo "${firsts[limited.tessera]}" | median)
sp=$(echo "$so / $st" | bc -l)
pct=$(echo "100 * $(echo "${bytes[limited.tessera]}" | median) / $oci_bytes" | bc -l)
echo "issue 6 targets (limited link; Nydus: 11.5x, 6%):"
printf '  first output speed-up: %.1fx (target >= 15x)  %s\n' "$sp" "$( (($(echo "$sp >= 15" | bc))) && echo met || echo 'NOT met')"
printf '  bytes served: %.1f%% of the OCI image (target <= 5%%)  %s\n' "$pct" "$( (($(echo "$pct <= 5" | bc))) && echo met || echo 'NOT met')"
