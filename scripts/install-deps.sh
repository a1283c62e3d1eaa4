#!/usr/bin/env bash
# Installs everything etcd-defragd needs to build and test: Debian 12 packages, then etcd 3.5-3.7
# and etcd-defrag built with the machine's Go toolchain (scripts/install-etcd-versions.sh).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libboost1.81-dev libboost-json1.81-dev libssl-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev catch2 libsystemd-dev
  etcd-server etcd-client openssl curl clang-format clang-tidy systemd dpkg-dev file
  prometheus prometheus-alertmanager jq gnuplot-nox wrk clang libclang-rt-dev
  debootstrap systemd-container lintian
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_packages() {
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian's etcd-server package may start a system etcd on 2379; our tests use their own ports,
  # but a stray system service only costs memory here.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
    $sudo systemctl stop etcd || true
  fi
}

install_packages
# etcd 3.5, 3.6 and 3.7 from the etcd Go modules and the reference etcd-defrag, into a cache
# outside the source tree (a no-op once built); only the versions named, if any (the demo's).
"$(dirname "$0")/install-etcd-versions.sh" "$@"
