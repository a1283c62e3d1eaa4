#!/usr/bin/env bash
# Builds etcd-defragd and edd_daemon_bench, then measures `etcd-defragd run` on fresh 3-member
# etcd 3.4 clusters on loopback (stopped at the end): NOSPACE recovery, idle RSS/CPU over 300 s,
# /metrics latency at 200 requests/s (and wrk's saturation figures), rule -> run. About 9 minutes.
# Usage: tests/bench/run_daemon_bench.sh [BUILD_DIR] [-- benchmark flags, e.g. --idle-seconds 30]
# BUILD_DIR defaults to ./build (the bench target is not part of `all`, so this adds one target).
# Environment: BUILD_TYPE (e.g. RelWithDebInfo; the figures are the daemon's, so build it
# optimised).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
bench_parse_args "$@"
set -- "${bench_args[@]}"

for tool in etcd etcdctl curl wrk; do
  command -v "$tool" >/dev/null || { echo "run_daemon_bench.sh: $tool is not on PATH" >&2; exit 2; }
done
bench_build edd_daemon_bench

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
version=$(etcd --version)
echo "${version%%$'\n'*}; etcd-defragd built as ${build_type:-<no CMAKE_BUILD_TYPE>}; $(nproc) cores"
exec "$build_dir/tests/bench/edd_daemon_bench" "$@"  # defaults: --idle-seconds 300, --repeats 5
