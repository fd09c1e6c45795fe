#!/usr/bin/env bash
# Daemon benchmark (issue 4): how fast a tree is served by tesserad next to its peers, all mounted
# at once and measured round-robin, every figure a ratio to the plain directory in the same round.
#   bench/daemon_bench.sh [TREE]     default: $TESSERA_ROOTFS if set, else /usr/share
#   ROUNDS=N (default 3)             rounds; each round measures every workload on every contender
#   RANDOM_READS=N (default 2000)    4 KiB preads in the largest file
#   FUSE_URING=0                     leave the fuse module's enable_uring as it is (default: turn
#                                    it on for the run and back afterwards, so tesserad serves
#                                    over io_uring; tesserad-devfuse then shows /dev/fuse)
#   TESSERAD_ARGS="..."              extra tesserad arguments for both daemons, e.g.
#                                    "--threads 8" or "--config FILE" (A/B experiments)
# Needs root (mounts, drop_caches), squashfuse_ll and mksquashfs. Prints figures; asserts nothing.
#
# Contenders, mounted simultaneously:
#   plain        the tree itself
#   erofs        kernel EROFS: bootstrap + `tessera-image export` raw devices, file-backed mount(2)
#   tesserad-warm  tesserad over a cache dir fully populated beforehand (--prefetch-all)
#   tesserad-cold  tesserad over an empty cache dir, localfs backend
#   tesserad-devfuse  as tesserad-warm (a copy of its cache) but through /dev/fuse, not io_uring
#   squashfuse   squashfuse_ll on `mksquashfs -comp zstd` of the tree
# Workloads: walk (find -printf '%s %m'), readall (tar cf - | wc -c), rand4k (preads at random
# 4 KiB-aligned offsets of the largest file, fixed seed). Each one is measured "cold" (sync +
# drop_caches first; both tesserad daemons are restarted first, so nothing of the previous run is
# left in them: tesserad-warm keeps its cache files, tesserad-cold gets an emptied cache dir) and
# then "warm" (the same run again at once, page cache and daemon state as the cold run left them).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tree="$(realpath "${1:-${TESSERA_ROOTFS:-/usr/share}}")"
rounds="${ROUNDS:-3}"
nreads="${RANDOM_READS:-2000}"
read -r -a extra_args <<<"${TESSERAD_ARGS:-}"
bin="$repo/build/bin"

[ "$(id -u)" = 0 ] || { echo "daemon_bench: needs root (mounts, drop_caches)" >&2; exit 1; }
[ -d "$tree" ] || { echo "daemon_bench: $tree is not a directory" >&2; exit 1; }
for tool in squashfuse_ll mksquashfs python3 tar find; do
  command -v "$tool" >/dev/null || { echo "daemon_bench: $tool missing (run scripts/setup.sh)" >&2; exit 1; }
done
# Incremental: ninja only rebuilds what changed (this builds the working tree, committed or not).
bash scripts/build.sh release tessera-image tesserad tesseractl >/dev/null
revision=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git status --porcelain -- common erofs storage nydusd builder 2>/dev/null | wc -l)
[ "$dirty" = 0 ] || revision="$revision + $dirty uncommitted files in common/ erofs/ storage/ nydusd/ builder/"

uring_param=/sys/module/fuse/parameters/enable_uring
uring_saved=""
if [ "${FUSE_URING:-1}" = 1 ] && [ -w "$uring_param" ]; then
  uring_saved=$(cat "$uring_param")
  echo Y >"$uring_param"
fi
uring_state=$(cat "$uring_param" 2>/dev/null || echo "absent")

work=$(mktemp -d /tmp/tessera-daemon-bench.XXXXXX)
declare -A pid mnt sock cachedir
mounted=()
squash_pid=""

say() { printf '%s\n' "$*" >&2; }

is_mounted() { awk -v m="$1" '$2 == m {f = 1} END {exit !f}' /proc/mounts; }

stop_pid() {  # PID: SIGTERM, then SIGKILL after 10 s; only our own children
  local p=$1 i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local rc=$? name m
  trap - EXIT INT TERM
  for name in "${!pid[@]}"; do stop_pid "${pid[$name]}"; done
  stop_pid "$squash_pid"
  [ -z "$uring_saved" ] || echo "$uring_saved" >"$uring_param"
  for m in "${mounted[@]}"; do
    if is_mounted "$m"; then umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done
  if grep -q " $work/" /proc/mounts; then
    say "daemon_bench: something is still mounted under $work; not removing it"
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_mounted() {  # MOUNTPOINT PID LOG
  local i
  for i in $(seq 300); do
    is_mounted "$1" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  say "daemon_bench: $1 did not come up"; cat "$3" >&2; return 1
}

metric() {  # NAME METRIC
  "$bin/tesseractl" --apisock "${sock[$1]}" metrics | awk -v n="$2" '$1 == n {print $2; f = 1} END {if (!f) print 0}'
}

start_daemon() {  # NAME [EXTRA ARGS]
  local name=$1
  shift
  rm -f "${sock[$name]}"
  "$bin/tesserad" --bootstrap "$work/image.boot" --blob-dir "$work/blobs" --mountpoint "${mnt[$name]}" \
    --cache-dir "${cachedir[$name]}" --apisock "${sock[$name]}" ${extra_args[@]+"${extra_args[@]}"} "$@" \
    $([ "$name" = tesserad-devfuse ] && echo --config "$work/devfuse.json") 2>>"$work/$name.log" &
  pid[$name]=$!
  wait_mounted "${mnt[$name]}" "${pid[$name]}" "$work/$name.log"
  local i
  for i in $(seq 100); do [ -S "${sock[$name]}" ] && return 0; sleep 0.05; done
  say "daemon_bench: no API socket for $name"; return 1
}

stop_daemon() {  # NAME
  stop_pid "${pid[$1]}"
  pid[$1]=""
  if is_mounted "${mnt[$1]}"; then umount -l "${mnt[$1]}"; fi
}

restart_daemon() {  # NAME: a fresh process; tesserad-cold also gets an empty cache dir
  stop_daemon "$1"
  if [ "$1" = tesserad-cold ]; then
    rm -rf "${cachedir[$1]}" && mkdir "${cachedir[$1]}"
  fi
  start_daemon "$1"
}

# ---------------------------------------------------------------------------------------------
say "== tree $tree"
read -r nfiles nentries data_bytes < <(find "$tree" -xdev -printf '%y %s\n' |
  awk '{n++} $1 == "f" {f++; s += $2} END {print f + 0, n + 0, s + 0}')
read -r big_size big_rel < <(find "$tree" -xdev -type f -printf '%s %P\n' | sort -n -k1,1 | tail -n 1)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

say "== tessera-image create + export"
mkdir -p "$work/blobs" "$work/raw" "$work/mnt"
t0=$(date +%s%N)
"$bin/tessera-image" create -q --bootstrap "$work/image.boot" --blob-dir "$work/blobs" "$tree"
t_create=$((($(date +%s%N) - t0) / 1000000))
"$bin/tessera-image" export --bootstrap "$work/image.boot" --blob-dir "$work/blobs" --output "$work/raw" >/dev/null
devices=$("$bin/tessera-image" inspect --bootstrap "$work/image.boot" --json |
  python3 -c "import json,sys; print(','.join('device=$work/raw/'+b['id']+'.raw' for b in json.load(sys.stdin)['blobs']))")

say "== mksquashfs"
t0=$(date +%s%N)
mksquashfs "$tree" "$work/sq.img" -comp zstd -processors 2 -no-progress -quiet >/dev/null
t_squash=$((($(date +%s%N) - t0) / 1000000))

contenders=(plain erofs tesserad-warm tesserad-cold tesserad-devfuse squashfuse)
mnt[plain]=$tree
for name in erofs tesserad-warm tesserad-cold tesserad-devfuse squashfuse; do
  mnt[$name]=$work/mnt/$name
  mkdir -p "${mnt[$name]}"
done
for name in tesserad-warm tesserad-cold tesserad-devfuse; do
  sock[$name]=$work/$name.sock
  cachedir[$name]=$work/cache-$name
  mkdir -p "${cachedir[$name]}"
done

say "== kernel EROFS mount"
python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), b"erofs", 1, sys.argv[3].encode()) != 0:
    sys.exit("mount(2) erofs: " + os.strerror(ctypes.get_errno()))
' "$work/image.boot" "${mnt[erofs]}" "$devices"
mounted+=("${mnt[erofs]}")

say "== tesserad-warm: populating its cache (--prefetch-all)"
mounted+=("${mnt[tesserad-warm]}" "${mnt[tesserad-cold]}" "${mnt[tesserad-devfuse]}" "${mnt[squashfuse]}")
t0=$(date +%s%N)
start_daemon tesserad-warm --prefetch-all
for _ in $(seq 6000); do
  ready=$(metric tesserad-warm tessera_chunks_ready)
  total=$(metric tesserad-warm tessera_chunks_total)
  [ "$total" != 0 ] && [ "$ready" = "$total" ] && break
  sleep 0.2
done
t_prefetch=$((($(date +%s%N) - t0) / 1000000))
[ "$ready" = "$total" ] || { say "daemon_bench: prefetch did not finish ($ready/$total chunks)"; exit 1; }
prefetch_fetched=$(metric tesserad-warm tessera_backend_read_bytes_total)
stop_daemon tesserad-warm
rm -rf "${cachedir[tesserad-devfuse]}"
cp -a "${cachedir[tesserad-warm]}" "${cachedir[tesserad-devfuse]}"
echo '{"fuse": {"io_uring": false}}' >"$work/devfuse.json"
start_daemon tesserad-warm
start_daemon tesserad-cold
start_daemon tesserad-devfuse
find "${mnt[tesserad-warm]}" -maxdepth 2 >/dev/null
warm_uring=$(metric tesserad-warm tessera_fuse_uring_requests_total)

say "== squashfuse_ll"
squashfuse_ll -f "$work/sq.img" "${mnt[squashfuse]}" 2>>"$work/squashfuse.log" &
squash_pid=$!
wait_mounted "${mnt[squashfuse]}" "$squash_pid" "$work/squashfuse.log"

# ---------------------------------------------------------------------------------------------
# Timed runs. Each prints "SECONDS BYTES" (BYTES: tar stream bytes for readall, else 0).
now_ns() { date +%s%N; }
run_walk() {
  local t0
  t0=$(now_ns)
  find "$1" -printf '%s %m\n' >/dev/null || return 1
  echo "$(($(now_ns) - t0)) 0"
}
run_readall() {
  local t0 n
  t0=$(now_ns)
  n=$( { tar cf - -C "$1" . 2>>"$work/tar.err" || true; } | wc -c)
  echo "$(($(now_ns) - t0)) $n"
}
run_rand4k() {
  python3 -c '
import os, random, sys, time
path, count = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter_ns()
fd = os.open(path, os.O_RDONLY)
blocks = max(1, os.fstat(fd).st_size // 4096)
rng = random.Random(20240601)
n = 0
for _ in range(count):
    n += len(os.pread(fd, 4096, rng.randrange(blocks) * 4096))
os.close(fd)
print(time.perf_counter_ns() - t0, 0)
' "$1/$big_rel" "$nreads"
}

daemon_cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
daemon_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)

results=$work/results.tsv
: >"$results"
# One measurement: ROUND STATE WORKLOAD CONTENDER -> a line of results.tsv:
# round workload state contender ns bytes hwm_kib cpu_ticks fetched_bytes load1
measure() {
  local round=$1 state=$2 workload=$3 name=$4 p="" cpu0=0 fetched0=0 out ns bytes hwm=- cpu=- fetched=-
  if [ -n "${pid[$name]:-}" ]; then
    p=${pid[$name]}
    echo 5 >"/proc/$p/clear_refs"
    cpu0=$(daemon_cpu_ticks "$p")
    fetched0=$(metric "$name" tessera_backend_read_bytes_total)
  fi
  if [ "$state" = cold ]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  fi
  out=$("run_$workload" "${mnt[$name]}") || { say "daemon_bench: $workload on $name failed"; return 1; }
  read -r ns bytes <<<"$out"
  if [ -n "$p" ]; then
    hwm=$(daemon_hwm_kib "$p")
    cpu=$(($(daemon_cpu_ticks "$p") - cpu0))
    fetched=$(($(metric "$name" tessera_backend_read_bytes_total) - fetched0))
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$workload" "$state" "$name" "$ns" \
    "$bytes" "$hwm" "$cpu" "$fetched" "$(cut -d' ' -f1 /proc/loadavg)" >>"$results"
}

workloads=(walk readall rand4k)
say "== measuring: $rounds rounds x ${#workloads[@]} workloads x ${#contenders[@]} contenders x cold+warm"
for ((r = 1; r <= rounds; r++)); do
  # Rotate the contender order each round so that none always runs first.
  order=()
  for i in "${!contenders[@]}"; do
    order+=("${contenders[$(((i + r - 1) % ${#contenders[@]}))]}")
  done
  for w in "${workloads[@]}"; do
    for name in "${order[@]}"; do
      case $name in tesserad-*) restart_daemon "$name" ;; esac
      measure "$r" cold "$w" "$name"
      measure "$r" warm "$w" "$name"
    done
  done
  say "   round $r/$rounds done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
blob_bytes=$(du -sb --apparent-size "$work/blobs" | cut -f1)
raw_bytes=$(du -sb --apparent-size "$work/raw" | cut -f1)
boot_bytes=$(stat -c %s "$work/image.boot")
sq_bytes=$(stat -c %s "$work/sq.img")
cat <<EOF
tesserad benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')   commit $revision
kernel $(uname -r), $(nproc) cpus, load average $load_start at start, $load_end at end
tesserad: defaults (4 FUSE threads, verify_cached on, push_ahead 1 MiB)${TESSERAD_ARGS:+, then: $TESSERAD_ARGS}
FUSE over io_uring: fuse enable_uring=$uring_state during the run; tesserad-warm/-cold $([ "${warm_uring:-0}" != 0 ] && echo "served over io_uring" || echo "served through /dev/fuse"), tesserad-devfuse through /dev/fuse
tree $tree: $nfiles files, $nentries entries, $data_bytes bytes of file data ($(awk -v b="$data_bytes" 'BEGIN {printf "%.1f", b / 1048576}') MiB)
image: bootstrap $boot_bytes B, blob $blob_bytes B (zstd, 1 MiB chunks/frames), raw devices $raw_bytes B; created in $((t_create / 1000)).$(printf '%03d' $((t_create % 1000))) s
squashfs (zstd): $sq_bytes B, made in $((t_squash / 1000)).$(printf '%03d' $((t_squash % 1000))) s;  tesserad-warm prefetch-all: $((t_prefetch / 1000)).$(printf '%03d' $((t_prefetch % 1000))) s, $prefetch_fetched B fetched
rand4k: $nreads preads of 4 KiB at random aligned offsets of $big_rel ($big_size B), seed fixed
cold = sync + echo 3 > drop_caches before the run, and both tesserad daemons restarted (fresh process)
       before it: tesserad-warm keeps its cache files (fully populated), tesserad-cold starts from an
       emptied cache dir (every chunk comes from the localfs backend); squashfuse_ll keeps running.
warm = the same run again right after the cold one (page cache, dentries and daemon state kept).
ratio = contender time / plain-directory time in the same round (lower is faster); median [min-max]
over $rounds rounds. vs_erofs = median of the per-round ratio to the kernel EROFS mount.
rss = tesserad VmHWM during the run (clear_refs before); cpu = tesserad utime+stime during the run;
fetched = tessera_backend_read_bytes_total during the run (compressed bytes from the backend).
EOF
python3 - "$results" "$rounds" "$clk_tck" "$raw_bytes" <<'EOF'
import collections, statistics, sys
path, rounds, tck, raw_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = collections.defaultdict(dict)   # (workload, state, contender) -> round -> fields
loads = collections.defaultdict(list)
for line in open(path):
    r, w, s, c, ns, nbytes, hwm, cpu, fetched, load = line.rstrip("\n").split("\t")
    rows[(w, s, c)][int(r)] = dict(sec=int(ns) / 1e9, bytes=int(nbytes), hwm=hwm, cpu=cpu, fetched=fetched)
    loads[int(r)].append(float(load))
contenders = ["plain", "erofs", "tesserad-warm", "tesserad-cold", "tesserad-devfuse", "squashfuse"]
med = statistics.median
def fmt(x, spec):
    return "-" if x is None else format(x, spec)
hdr = ("workload", "state", "contender", "ratio", "min", "max", "abs_s", "vs_erofs", "MiB/s",
       "rss_MiB", "cpu_s", "fetched_MiB")
fmtline = "{:<8} {:<5} {:<14} {:>6} {:>6} {:>6} {:>8} {:>8} {:>7} {:>7} {:>6} {:>11}"
print(fmtline.format(*hdr))
summary = {}
for w in ["walk", "readall", "rand4k"]:
    for s in ["cold", "warm"]:
        for c in contenders:
            data = rows.get((w, s, c), {})
            plain = rows.get((w, s, "plain"), {})
            erofs = rows.get((w, s, "erofs"), {})
            rs = sorted(data)
            if not rs:
                continue
            ratio = [data[r]["sec"] / plain[r]["sec"] for r in rs if r in plain]
            vs_k = [data[r]["sec"] / erofs[r]["sec"] for r in rs if r in erofs]
            secs = [data[r]["sec"] for r in rs]
            mibs = None
            if w == "readall":
                mibs = med([data[r]["bytes"] / data[r]["sec"] / 1048576 for r in rs])
            def dmed(key, scale):
                v = [float(data[r][key]) for r in rs if data[r][key] != "-"]
                return med(v) / scale if v else None
            rss = dmed("hwm", 1024)
            cpu = dmed("cpu", tck)
            fetched = dmed("fetched", 1048576)
            summary[(w, s, c)] = dict(vs_k=med(vs_k) if vs_k else None, rss=rss, mibs=mibs,
                                      rss_max=max((float(data[r]["hwm"]) / 1024 for r in rs if data[r]["hwm"] != "-"), default=None))
            print(fmtline.format(w, s, c, fmt(med(ratio), ".2f"), fmt(min(ratio), ".2f"),
                                 fmt(max(ratio), ".2f"), fmt(med(secs), ".3f"), fmt(med(vs_k), ".2f"),
                                 fmt(mibs, ".1f"), fmt(rss, ".1f"), fmt(cpu, ".2f"), fmt(fetched, ".1f")))
    print()
bytes_by = {c: sorted({rows[("readall", s, c)][r]["bytes"] for s in ("cold", "warm")
                       for r in rows.get(("readall", s, c), {})}) for c in contenders}
if len({tuple(v) for v in bytes_by.values()}) != 1:
    print("note: tar stream sizes differ between contenders:", bytes_by)
print("load average (1 min) during each round: " +
      ", ".join("r%d %.2f-%.2f" % (r, min(l), max(l)) for r, l in sorted(loads.items())))
print()
print("issue 4 targets (tesserad with data cached locally = tesserad-warm; figures are medians):")
def target(label, value, limit, better):
    if value is None:
        print(f"  {label}: no data")
        return
    ok = value <= limit if better == "le" else value >= limit
    sign = "<=" if better == "le" else ">="
    print(f"  {label}: {value:.2f} (target {sign} {limit})  {'met' if ok else 'NOT met'}")
g = summary.get
target("cold walk time / kernel EROFS time", g(("walk", "cold", "tesserad-warm"), {}).get("vs_k"), 1.3, "le")
t = g(("readall", "cold", "tesserad-warm"), {}).get("vs_k")
target("cold read-all throughput / kernel EROFS throughput", 1 / t if t else None, 0.75, "ge")
target("warm read-all time / kernel EROFS time", g(("readall", "warm", "tesserad-warm"), {}).get("vs_k"), 1.15, "le")
peak = max((v["rss_max"] for (w, s, c), v in summary.items() if c.startswith("tesserad") and v["rss_max"]), default=None)
if peak is not None:
    print(f"  peak RSS of tesserad over all runs: {peak:.1f} MiB for a {raw_bytes / 2**30:.2f} GiB image "
          f"(target <= 64 MiB for 1 GiB)  {'met' if peak <= 64 * max(1.0, raw_bytes / 2**30) else 'NOT met'}")
EOF
tar_err_lines=$(wc -l <"$work/tar.err")
[ "$tar_err_lines" = 0 ] || { echo "tar printed $tar_err_lines lines on stderr; first ones:"; head -n 5 "$work/tar.err"; }
