#!/usr/bin/env bash
# Configures and builds etcd-defragd and its tests in ./build (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
# Arguments go to the build step, e.g. `scripts/build.sh --target etcd-defragd`.
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build -j"$(nproc)" "$@"
