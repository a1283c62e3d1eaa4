#!/usr/bin/env bash
# `etcd-defragd usage` against the operators' pipeline on a 3-member etcd cluster (loopback, etcd
# 3.6 unless EDD_ETCD_VERSION says otherwise) seeded with 100k keys in a Kubernetes-like layout:
# scan time and peak RSS of each, and the scanned member's extra load — its CPU seconds during the
# scan (/proc/<pid>/stat) and the p50/p99 latency of puts sent to it meanwhile, against the same
# puts with no scan. Prints figures, asserts nothing; not run by CI. About 3-4 minutes on 2 cores.
# Usage: tests/bench/run_usage_bench.sh [BUILD_DIR] [-- KEYS]   (KEYS defaults to 100000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
bench_parse_args "$@"
keys=${bench_args[0]:-100000}

for tool in etcdctl curl python3 ss /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run_usage_bench.sh: $tool is not on PATH" >&2; exit 2; }
done
bench_build edd-testcluster
defragd=$build_dir/daemon/etcd-defragd

work=$(mktemp -d)
cluster_pid=
cleanup() {
  [[ -n $cluster_pid ]] && kill "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build_dir/tests/harness/edd-testcluster" --dir "$work/c" >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 120); do grep -q "cluster ready" "$work/cluster.log" && break; sleep 0.5; done
grep -q "cluster ready" "$work/cluster.log" || { cat "$work/cluster.log" >&2; exit 1; }
ep=$(cut -d, -f1 "$work/c/endpoints")
member_pid=$(ss -ltnpH "sport = :${ep##*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
echo "$(etcdctl version | head -1); etcd $(etcdctl --endpoints "$ep" endpoint status -w json |
  grep -o '"version":"[^"]*"' | cut -d'"' -f4); $(nproc) cores; etcd-defragd built $(grep -o \
  'CMAKE_BUILD_TYPE:STRING=.*' "$build_dir/CMakeCache.txt" | cut -d= -f2)"

# The seed: events are many and small, pods and configmaps fewer and larger; leases rewritten.
echo "seeding $keys keys ..."
seed_start=$(date +%s.%N)
python3 - "$ep" "$keys" <<'PY'
import random, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
ep, total = sys.argv[1], int(sys.argv[2])
random.seed(13)
layout = [("events", 0.45, 400, 1200), ("pods", 0.18, 2000, 6000), ("configmaps", 0.08, 300, 12000),
          ("secrets", 0.08, 500, 4000), ("replicasets", 0.07, 1500, 3000),
          ("endpointslices", 0.05, 500, 1500), ("leases", 0.04, 250, 350),
          ("serviceaccounts", 0.05, 200, 600)]
namespaces = ["ns-%02d" % i for i in range(40)]
ops = []
for resource, share, lo, hi in layout:
    for i in range(int(total * share)):
        ops.append("put /registry/%s/%s/%s-%d %s" % (resource, namespaces[i % 40], resource, i,
                                                     "x" * random.randint(lo, hi)))
while len(ops) < total:
    ops.append("put /registry/cilium.io/ciliumendpoints/%s/ep-%d %s"
               % (namespaces[len(ops) % 40], len(ops), "x" * 1500))
def txn(batch):
    subprocess.run(["etcdctl", "--endpoints", ep, "txn"], input="\n" + "\n".join(batch) + "\n\n\n",
                   text=True, check=True, stdout=subprocess.DEVNULL)
with ThreadPoolExecutor(3) as pool:
    list(pool.map(txn, [ops[i:i + 100] for i in range(0, len(ops), 100)]))
PY
echo "seeded in $(python3 -c "import time; print(round(time.time() - $seed_start, 1))") s"
sleep 2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$member_pid/stat"; }
tck=$(getconf CLK_TCK)
put_value=$(printf 'v%.0s' $(seq 1 200) | base64 -w0)
# Puts to the scanned member until the flag file disappears; the latency (s) of each put that
# ends while the file rec exists goes to the file $1.
put_loop() {
  local out=$1 flag=$2 i=0 t
  while [[ -e $flag ]]; do
    t=$(curl -s -o /dev/null -w '%{time_total}' -X POST "http://$ep/v3/kv/put" \
      -d "{\"key\":\"$(printf '/bench/probe-%d' $((i % 50)) | base64 -w0)\",\"value\":\"$put_value\"}")
    [[ -e $work/rec ]] && echo "$t" >>"$out"
    i=$((i + 1))
  done
}
percentiles() { sort -n "$1" | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p99 %.1f ms (%d puts)", a[int(NR*0.5)+1]*1000, a[int(NR*0.99)+1]*1000, NR}'; }
# Runs "$@" while putting; prints its wall time, peak RSS, the member's CPU seconds (and those
# beyond the rate of the first no-scan window, which has the same puts), the put latency.
base_rate=
measure() {
  local name=$1 flag=$work/flag lat=$work/lat.$RANDOM
  shift
  touch "$flag"
  put_loop "$lat" "$flag" &
  local loop=$!
  sleep 1
  local c0 t0 t1 c1 took cpu extra=
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  touch "$work/rec"
  "$@"
  rm -f "$work/rec"
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  rm -f "$flag"
  wait "$loop"
  took=$(echo "$t1 - $t0" | bc)
  cpu=$(echo "($c1 - $c0) / $tck" | bc -l)
  if [[ -z $base_rate ]]; then
    base_rate=$(echo "$cpu / $took" | bc -l)
  else
    extra=$(printf ' (+%.2f)' "$(echo "$cpu - $base_rate * $took" | bc -l)")
  fi
  printf '%-40s %6.2f s  RSS %9s  member CPU %5.2f s%-8s  puts: %s\n' "$name" "$took" \
    "$(cat "$work/rss" 2>/dev/null || echo -)" "$cpu" "$extra" "$(percentiles "$lat")"
  rm -f "$work/rss"
}
idle() { sleep 6; echo - >"$work/rss"; }
pipeline() {
  /usr/bin/time -f '%M kB' -o "$work/rss" etcdctl --endpoints "$ep" get / --prefix --keys-only |
    sed '/^$/d' | cut -d/ -f3 | sort | uniq -c | sort -rn >"$work/pipeline.out"
}
usage_at() {
  /usr/bin/time -f '%M kB' -o "$work/rss" "$defragd" usage --endpoints "$ep" --rate "$1" \
    --page-size "${2:-1000}" >"$work/usage.out" 2>/dev/null
}

echo
measure "no scan (6 s of puts)" idle
measure "etcdctl get --keys-only | cut | uniq -c" pipeline
measure "usage --rate 0 (unpaced)" usage_at 0
measure "usage (default --rate 20000)" usage_at 20000
measure "usage --rate 5000 --page-size 500" usage_at 5000 500
measure "no scan (6 s of puts)" idle
echo
echo "the pipeline's groups:" && head -5 "$work/pipeline.out"
echo "usage --rate 5000:" && head -9 "$work/usage.out" && tail -2 "$work/usage.out"
