#!/usr/bin/env bash
# Installs everything etcd-defragd needs to build and test, from Debian 12 packages only.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libboost1.81-dev libboost-json1.81-dev libssl-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev catch2 libsystemd-dev
  etcd-server etcd-client openssl curl clang-format systemd dpkg-dev file
  prometheus prometheus-alertmanager jq gnuplot-nox wrk clang libclang-rt-dev
  debootstrap systemd-container lintian
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's etcd-server package may start a system etcd on 2379; our tests use their own ports,
# but a stray system service only costs memory here.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  $SUDO systemctl stop etcd || true
fi
