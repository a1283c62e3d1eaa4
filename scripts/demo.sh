#!/usr/bin/env bash
# Command (1) of the README: install, build, start a local 3-member etcd cluster on free loopback
# ports, fragment it, and show etcd-defragd doing the main job on it: status before, one safe
# defrag run (followers first, the leader last), status after. The cluster is stopped by PID at
# the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

bin=build/daemon/etcd-defragd
dir=$(mktemp -d /tmp/etcd-defragd-demo.XXXXXX)
cluster_pid=""
cleanup() {
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid"
    wait "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting a 3-member etcd cluster in $dir (quota 256 MiB) and fragmenting it"
build/tests/harness/edd-testcluster --dir "$dir/cluster" --quota-bytes $((256 * 1024 * 1024)) \
  --fragment-bytes $((48 * 1024 * 1024)) >"$dir/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 600); do
  grep -q "cluster ready" "$dir/cluster.log" 2>/dev/null && break
  if ! kill -0 "$cluster_pid" 2>/dev/null; then cat "$dir/cluster.log"; exit 1; fi
  sleep 0.1
done
grep -q "cluster ready" "$dir/cluster.log" || { cat "$dir/cluster.log"; exit 1; }
cat "$dir/cluster.log"
endpoints=$(cat "$dir/cluster/endpoints")
first=${endpoints%%,*}

echo
echo "== etcd-defragd status --endpoints $first --cluster   (before)"
$bin status --endpoints "$first" --cluster

echo
echo "== etcd-defragd defrag --endpoints $first --cluster --defrag-rule 'dbSizeFree > 10*1024*1024'"
$bin defrag --endpoints "$first" --cluster --defrag-rule 'dbSizeFree > 10*1024*1024'

echo
echo "== etcd-defragd status --endpoints $first --cluster   (after)"
$bin status --endpoints "$first" --cluster
