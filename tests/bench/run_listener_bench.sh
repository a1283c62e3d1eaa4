#!/usr/bin/env bash
# Builds etcd-defragd and edd_listener_bench, then measures one `etcd-defragd run` on a fresh
# 3-member etcd cluster on loopback (stopped at the end): /metrics latency p50/p99/max and scrape
# success, the daemon's CPU and RSS, first alone, then under a same-host slowloris of 340
# connections. About 50 s with the defaults.
# Usage: tests/bench/run_listener_bench.sh [BUILD_DIR] [-- benchmark flags, e.g. --seconds 30]
# BUILD_DIR defaults to ./build (the bench target is not part of `all`, so this adds one target).
# Environment: BUILD_TYPE (e.g. RelWithDebInfo; the figures are the daemon's, so build it
# optimised), EDD_ETCD_VERSION (default 3.6).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
bench_parse_args "$@"
set -- "${bench_args[@]}"

command -v curl >/dev/null || { echo "run_listener_bench.sh: curl is not on PATH" >&2; exit 2; }
bench_build edd_listener_bench

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
echo "etcd ${EDD_ETCD_VERSION:-3.6}; etcd-defragd built as ${build_type:-<no CMAKE_BUILD_TYPE>};" \
  "$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$build_dir/tests/bench/edd_listener_bench" "$@"
