# shellcheck shell=bash
# Shared by registry_bench.sh and containerd_bench.sh (source it; needs bash, root):
# a docker-registry on 127.0.0.1 with an access log, a network namespace reached over a veth pair
# whose host side is rate-limited with tbf, a delay relay (delay_proxy.py; this kernel has no
# netem) in front of the registry on the veth's host address, the OCI image of a rootfs made
# with umoci, and byte counting from the access log.
#
# Call lib_init NAME first; it sets (globals): work (temp dir), ns, veth_host, veth_ns, host_ip,
# ns_ip, port (registry, 127.0.0.1), proxy_port (relay, $host_ip), reg (127.0.0.1:$port),
# rate, delay. LIB_SUBNET (default 10.203.0) picks the veth addresses. The caller sets $repo.

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

lib_init() {
  work=$(mktemp -d "/tmp/tessera-$1.XXXXXX")
  ns="tsb$$"
  veth_host="tsbh$$"
  veth_ns="tsbn$$"
  host_ip="${LIB_SUBNET:-10.203.0}.1"
  ns_ip="${LIB_SUBNET:-10.203.0}.2"
  port=$((20000 + $$ % 20000))
  proxy_port=$((port + 1))
  reg="127.0.0.1:$port"
  rate="${RATE:-24mbit}"
  delay="${DELAY:-0.01}"
  reg_pid=""
  proxy_pid=""
}

# Kills the relay and registry, deletes the namespace and veth, detaches mounts under $work and
# removes it. Call from the caller's EXIT trap.
lib_cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
  ip netns del "$ns" 2>/dev/null
  ip link del "$veth_host" 2>/dev/null
  umount_below "$work"
  rm -rf "$work"
}

# Detaches every mount under directory $1, deepest first.
umount_below() {
  awk -v w="$1/" 'index($2, w) == 1 {print length($2), $2}' /proc/mounts | sort -rn |
    while read -r _ m; do umount -l "$m" 2>/dev/null; done
}

ensure_rootfs() {
  [ -x "$1/usr/bin/python3" ] && return
  say "== debootstrap minbase + python3 into $1 (once; minutes)"
  mkdir -p "$(dirname "$1")"
  debootstrap --variant=minbase --include=python3 bookworm "$1.tmp" >"$1.log" 2>&1
  mv "$1.tmp" "$1"
}

# make_oci_image ROOTFS LAYOUT: OCI layout LAYOUT, tag v1, one gzip layer holding ROOTFS.
make_oci_image() {
  say "== OCI image of $1 (umoci, one gzip layer)"
  umoci init --layout "$2"
  umoci new --image "$2:v1"
  umoci unpack --image "$2:v1" "$work/bundle" >/dev/null
  cp -a "$1/." "$work/bundle/rootfs/"
  umoci repack --image "$2:v1" "$work/bundle" >/dev/null
  rm -rf "$work/bundle"
}

# Network namespace $ns with $ns_ip, veth to $host_ip; registry on $reg, relay on
# $host_ip:$proxy_port adding $delay each way, tbf $rate on the host side of the veth.
registry_up() {
  say "== network: veth $veth_host ($host_ip) <-> $veth_ns ($ns_ip) in netns $ns"
  ip netns add "$ns"
  ip link add "$veth_host" type veth peer name "$veth_ns" netns "$ns"
  ip addr add "$host_ip/24" dev "$veth_host"
  ip link set "$veth_host" up
  ip -n "$ns" addr add "$ns_ip/24" dev "$veth_ns"
  ip -n "$ns" link set "$veth_ns" up
  ip -n "$ns" link set lo up

  say "== docker-registry on $reg; delay relay on $host_ip:$proxy_port"
  mkdir -p "$work/registry"
  cat >"$work/registry.yml" <<EOF
version: 0.1
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $reg}
log: {level: error, accesslog: {disabled: false}}
EOF
  docker-registry serve "$work/registry.yml" >"$work/access.log" 2>&1 &
  reg_pid=$!
  python3 "${repo:?}/bench/delay_proxy.py" "$host_ip" "$proxy_port" 127.0.0.1 "$port" "$delay" &
  proxy_pid=$!
  tc qdisc replace dev "$veth_host" root tbf rate "$rate" burst 128kb latency 2s
  for _ in $(seq 100); do curl -fs "http://$reg/v2/" >/dev/null && break; sleep 0.1; done
  for _ in $(seq 100); do
    ip netns exec "$ns" curl -fs "http://$host_ip:$proxy_port/v2/" >/dev/null && break
    sleep 0.1
  done
}

# Bytes of a manifest's layers + config (REF on the registry).
image_bytes() {
  skopeo inspect --raw --tls-verify=false "docker://$1" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]) + m["config"]["size"])'
}

# Bytes the registry sent (response bodies) in access-log lines after line $1.
served_since() {
  tail -n +"$(($1 + 1))" "$work/access.log" |
    awk '$0 ~ /HTTP\/1\.[01]" [0-9]+ [0-9]+/ {for (i = 1; i < NF; i++) if ($i ~ /HTTP\/1\.[01]"$/) {s += $(i + 2); break}} END {print s + 0}'
}
access_lines() { wc -l <"$work/access.log"; }
