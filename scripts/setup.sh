#!/usr/bin/env bash
# Installs every Debian package Tessera needs to build, test and benchmark.
# Idempotent and non-interactive; safe to run again. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang clang-format libclang-rt-14-dev
  # libraries
  libfuse3-dev fuse3 liburing-dev libzstd-dev liblz4-dev libssl-dev libcurl4-openssl-dev
  librocksdb-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  nlohmann-json3-dev libarchive-dev zlib1g-dev libcli11-dev
  # test oracles and peers
  erofs-utils squashfs-tools squashfuse attr tar gzip zstd util-linux python3 time bc
  # registries, images and containers (issues 5, 6): real services on loopback
  docker-registry skopeo umoci debootstrap apache2-utils openssl iproute2 curl
  containerd runc golang-github-containerd-containerd-dev busybox-static
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt can be locked briefly by another apt on a fresh machine: retry a few times.
for attempt in 1 2 3 4 5; do
  if $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "setup: done"
    exit 0
  fi
  echo "setup: apt-get failed (attempt $attempt), retrying in 10 s" >&2
  sleep 10
done
echo "setup: could not install packages" >&2
exit 1
