#!/usr/bin/env bash
# Renders docs/dashboard.png from real data: a local 3-member etcd cluster (fragmented), three
# etcd-defragd daemons (paused for the first minute, so the graphs show the fragmented state, then
# let go: one of them defragments the cluster), and Prometheus scraping them. The panels are the
# Grafana dashboard's own queries (dashboards/render/render_dashboard.py). Every process started
# here is stopped by its PID at the end. Needs a build (scripts/build.sh) and gnuplot-nox.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/dashboard.png}
dir=$(mktemp -d /tmp/etcd-defragd-render.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

build/tests/harness/edd-testcluster --dir "$dir/cluster" --quota-bytes $((320 * 1024 * 1024)) \
  --fragment-bytes $((96 * 1024 * 1024)) >"$dir/cluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 900); do grep -q "cluster ready" "$dir/cluster.log" && break; sleep 0.1; done
grep -q "cluster ready" "$dir/cluster.log" || { cat "$dir/cluster.log"; exit 1; }
IFS=, read -r -a endpoints <"$dir/cluster/endpoints"

targets=""
for i in 0 1 2; do
  port=$(free_port)
  touch "$dir/pause-$i"
  cat >"$dir/daemon-$i.toml" <<TOML
[etcd]
endpoints = ["${endpoints[$i]}"]
local_endpoint = "${endpoints[$i]}"
command_timeout = "5s"
[policy]
poll_interval = "2s"
rule = "dbSizeFree > 16*1024*1024"
pause_file = "$dir/pause-$i"
[lock]
ttl = "10s"
[http]
listen = "127.0.0.1:$port"
TOML
  build/daemon/etcd-defragd run --config "$dir/daemon-$i.toml" >"$dir/daemon-$i.log" 2>&1 &
  pids+=($!)
  targets+="'127.0.0.1:$port',"
done

prom_port=$(free_port)
cat >"$dir/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: etcd-defragd
    static_configs:
      - targets: [${targets%,}]
        labels: { cluster: demo }
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

sleep 3
for pid in "${pids[@]}"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "render: a process exited at start:" >&2
    tail -n 5 "$dir"/daemon-*.log "$dir/prometheus.log" >&2
    exit 1
  fi
done

start=$(date +%s)
echo "render: paused daemons for 60 s (the fragmented state), then letting them act"
sleep 60
rm -f "$dir"/pause-*
sleep 60
end=$(date +%s)
/usr/bin/python3 dashboards/render/render_dashboard.py "http://127.0.0.1:$prom_port" \
  dashboards/grafana/etcd-defragd.json "$out" "$start" "$end" 2
grep -h "starting a run\|run finished" "$dir"/daemon-*.log || true
