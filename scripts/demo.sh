#!/usr/bin/env bash
# Command (1) of the README: install, build, start a local 3-member etcd cluster on free loopback
# ports, fragment it, and show etcd-defragd doing the main job on it: status before, then the
# daemon, which sees the rule fire at its first poll, takes the lock and defragments the cluster
# by itself (followers first, the leader last), then status after. Every process is stopped by
# its PID at the end, whatever happens.
#
# The cluster runs etcd 3.6 (built from the etcd Go modules the first time, ~2 min); choose
# another with EDD_ETCD_VERSION=3.4 (Debian's), 3.5 or 3.7.
set -euo pipefail
cd "$(dirname "$0")/.."
export EDD_ETCD_VERSION=${EDD_ETCD_VERSION:-3.6}
scripts/install-deps.sh "$EDD_ETCD_VERSION"
# Only what the demo runs (the test suite is scripts/test.sh's job): a few minutes on 2 cores.
scripts/build.sh --target etcd-defragd edd-testcluster

bin=build/daemon/etcd-defragd
dir=$(mktemp -d /tmp/etcd-defragd-demo.XXXXXX)
cluster_pid=""
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid"; fi
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid"
    wait "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting a 3-member etcd $EDD_ETCD_VERSION cluster in $dir (quota 256 MiB) and fragmenting it"
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

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/etcd-defragd.toml" <<TOML
# The demo daemon: this host's member is the first one; it watches all three.
[etcd]
local_endpoint = "$first"
command_timeout = "5s"
[policy]
poll_interval = "2s"
rule = "dbSizeFree > 10*1024*1024"
pause_file = "$dir/pause"
[lock]
ttl = "60s"
[http]
listen = "127.0.0.1:$port"
TOML
echo
echo "== etcd-defragd check-config --config $dir/etcd-defragd.toml"
$bin check-config --config "$dir/etcd-defragd.toml"

echo
echo "== etcd-defragd run --config $dir/etcd-defragd.toml   (the daemon; its log follows)"
$bin run --config "$dir/etcd-defragd.toml" >"$dir/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do
  grep -q "run finished" "$dir/daemon.log" && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
sed -e 's/^/  daemon| /' "$dir/daemon.log"
echo
echo "== curl http://127.0.0.1:$port/metrics   (a few of the daemon's series)"
curl -s "http://127.0.0.1:$port/metrics" |
  grep -E '^etcd_defragd_(runs_total\{result="success",trigger="rule"\}|reclaimed_bytes_total|lock_held|member_db_size_bytes)' || true
kill -TERM "$daemon_pid"
wait "$daemon_pid" || true
grep -q "run finished (rule): success" "$dir/daemon.log" || { echo "demo: the daemon did not run" >&2; exit 1; }

echo
echo "== etcd-defragd status --endpoints $first --cluster   (after)"
$bin status --endpoints "$first" --cluster
