#!/usr/bin/env bash
# The .deb as users run it (ctest label system): a minimal Debian 12 (scripts/system-tree.sh)
# boots systemd 252 in systemd-nspawn, sharing the host's network, and
#   - apt-get installs the .deb (real dependency resolution from Debian's mirror);
#   - a config points at a real, fragmented 3-member etcd cluster on 127.0.0.1 (edd-testcluster);
#   - `systemctl start` returns active (running) only after the daemon's READY=1 (first poll);
#   - the daemon defragments the cluster by itself under the unit's full hardening, which is
#     checked on the live process (no capabilities, NoNewPrivs, seccomp, read-only /) and rated
#     by systemd-analyze security on the running system;
#   - `systemctl reload` applies a good config and rejects a bad one, same PID;
#   - a SIGSTOPped daemon is killed by the watchdog (drop-in WatchdogSec=4s), systemd restarts it
#     and the new process takes the lock and acts at once instead of waiting out its
#     predecessor's lease (60 s TTL): the time from its start to acting is printed;
#   - `systemctl stop` is clean (exit 0, lock released); journalctl shows the operator's lines;
#   - an upgrade with the daemon running restarts it on the new package and keeps it running;
#   - apt-get remove keeps the operator's changed config; purge removes the user, the unit, its
#     enablement and every file of the package, and keeps files the operator added.
# Everything it makes (container, cgroups, cluster, temporary directory) is removed on exit,
# processes by PID. Exit 77 (skipped) only where this machine cannot boot a container.
#
# Usage: system_test.sh SOURCE_DIR DEB_BUILD_DIR EDD_TESTCLUSTER
#   the .deb comes from `scripts/build-deb.sh DEB_BUILD_DIR` (built there unless up to date), the
#   Debian tree from scripts/system-tree.sh (made once, cached).
set -euo pipefail

src=$1
deb_build=$2
testcluster=$3
start_s=$SECONDS
failures=0
say() { echo "[$((SECONDS - start_s)) s] == $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
skip() {
  echo "SKIP: this machine cannot boot a container: $*"
  exit 77
}

# ---- can this machine boot a container at all?
[ "$(id -u)" -eq 0 ] || skip "not root (systemd-nspawn needs root)"
for tool in systemd-nspawn nsenter jq etcdctl dpkg-deb curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/install-deps.sh)"; exit 1; }
done
unshare --mount --pid --uts --ipc --fork true 2>/dev/null ||
  skip "new mount/PID/UTS/IPC namespaces are not allowed here (an unprivileged container?)"
[ -x "$testcluster" ] || { echo "FAIL: $testcluster not built"; exit 1; }
name=edd-sys-$$
cg_dirs=()
# Our own cgroup in each hierarchy systemd-nspawn uses (the unified one and, on a legacy or
# hybrid host, name=systemd): --keep-unit makes nspawn put the container under the cgroup it runs
# in, and the directories it creates there (payload/, supervisor/) outlive it.
for line in $(cat /proc/self/cgroup); do
  hierarchy=${line#*:}
  controllers=${hierarchy%%:*}
  path=${hierarchy#*:}
  case $controllers in
    "") mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1) ;;
    name=systemd) mnt=$(findmnt -rn -t cgroup -O name=systemd -o TARGET | head -n 1) ;;
    *) continue ;;
  esac
  [ -n "$mnt" ] || continue
  cg_dirs+=("$mnt${path%/}/$name")
done
[ ${#cg_dirs[@]} -gt 0 ] || skip "no cgroup2 or name=systemd hierarchy mounted"
# A run killed outright (SIGKILL, so no cleanup) leaves its cgroups, perhaps with a container in
# them: remove those whose test process is gone, their processes first, by PID.
for d in "${cg_dirs[@]}"; do
  for old in "$(dirname "$d")"/edd-sys-*; do
    [ -d "$old" ] || continue
    kill -0 "${old##*-}" 2>/dev/null && continue
    for pid in $(find "$old" -name cgroup.procs -exec cat {} + 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    sleep 0.2
    find "$old" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
done
say "the release .deb (scripts/build-deb.sh $deb_build) and the Debian tree (scripts/system-tree.sh)"
deb=$("$src/scripts/build-deb.sh" "$deb_build") || { echo "FAIL: scripts/build-deb.sh"; exit 1; }
tree=$("$src/scripts/system-tree.sh") || { echo "FAIL: scripts/system-tree.sh"; exit 1; }
echo "$(basename "$deb") and $tree ready after $((SECONDS - start_s)) s"
start_s=$SECONDS  # the test proper, from here

# Also the temporary directory (a 200 MB copy of the tree) of a run that was killed outright.
for old in "${TMPDIR:-/tmp}"/edd-system-test.*.*; do
  [ -d "$old" ] || continue
  owner=${old#*/edd-system-test.}
  kill -0 "${owner%%.*}" 2>/dev/null || rm -rf --one-file-system "$old"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edd-system-test.$$.XXXXXX")
cluster_pid=""
nspawn_pid=""
ct_pid=""

cleanup() {
  local code=$?
  set +e
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # SIGTERM: nspawn asks the container's systemd to shut down cleanly.
    kill -TERM "$nspawn_pid"
    for _ in $(seq 1 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid"
    wait "$nspawn_pid" 2>/dev/null
  fi
  # Whatever is left in the container's cgroups (nothing after a clean shutdown), by PID.
  local d pid
  for d in "${cg_dirs[@]}"; do
    [ -d "$d" ] || continue
    for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
  done
  for d in "${cg_dirs[@]}"; do
    [ -d "$d" ] || continue
    for _ in $(seq 1 50); do
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$d" ] || break
      sleep 0.1
    done
    [ -d "$d" ] && echo "warning: cgroup $d not removed"
  done
  rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid"
    wait "$cluster_pid" 2>/dev/null
  fi
  if [ "$code" -ne 0 ] && [ "$code" -ne 77 ] && [ -f "$tmp/console.log" ]; then
    echo "== container console (last lines)"
    tail -n 30 "$tmp/console.log"
  fi
  rm -rf "$tmp"
  echo "system test: $((SECONDS - start_s)) s"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # ctest's timeout, ^C: through cleanup too

# Runs a command in the container as its root, with no stdin (CI has none either).
ct() { nsenter -t "$ct_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@" </dev/null; }
prop() { ct systemctl show -p "$1" --value etcd-defragd.service; }
journal() { ct journalctl -u etcd-defragd.service --no-pager -o cat "$@"; }
# Whether the unit's journal has a line with TEXT. Through a file: `grep -q` in a pipe would end
# journalctl with SIGPIPE, which pipefail reports as a failure.
journal_has() {
  journal >"$tmp/journal.txt"
  grep -qF -- "$1" "$tmp/journal.txt"
}
# Waits (bounded) until the unit's journal holds at least COUNT lines matching PATTERN.
wait_journal() {  # pattern seconds [count]
  local i n
  for i in $(seq 1 $(($2 * 5))); do
    n=$(journal | grep -cF -- "$1" || true)
    [ "$n" -ge "${3:-1}" ] && return 0
    sleep 0.2
  done
  return 1
}
# The journal's monotonic time (µs) of the first line of PID matching PATTERN; "" when none.
journal_usec() {  # pid pattern
  ct journalctl -u etcd-defragd.service "_PID=$1" --no-pager -o json |
    jq -r --arg p "$2" 'select(.MESSAGE | type == "string" and contains($p)) | .__MONOTONIC_TIMESTAMP' |
    head -n 1
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# ---- a fragmented 3-member cluster on free loopback ports
say "a fragmented 3-member etcd cluster on 127.0.0.1"
"$testcluster" --dir "$tmp/cluster" --quota-bytes $((256 * 1024 * 1024)) \
  --fragment-bytes $((24 * 1024 * 1024)) >"$tmp/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 600); do
  grep -q "cluster ready" "$tmp/cluster.log" && break
  kill -0 "$cluster_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "cluster ready" "$tmp/cluster.log" || { cat "$tmp/cluster.log"; echo "FAIL: no cluster"; exit 1; }
endpoints=$(cat "$tmp/cluster/endpoints")
first=${endpoints%%,*}
export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=$endpoints
db_sizes() { etcdctl endpoint status -w json | jq -r '[.[].Status.dbSize] | map(tostring) | join(" ")'; }
sizes_before=$(db_sizes)
echo "dbSize per member before: $sizes_before"

# ---- the container
say "boot systemd in a copy of the cached Debian 12 tree"
cp -a --reflink=auto "$tree" "$tmp/root"
cp "$deb" "$tmp/root/root/"
apt_cache=${EDD_SYSTEM_APT_CACHE:-${HOME:-/root}/.cache/etcd-defragd/apt-archives}
mkdir -p "$apt_cache/partial"
for d in "${cg_dirs[@]}"; do mkdir -p "$d"; done
(
  for d in "${cg_dirs[@]}"; do echo "$BASHPID" >"$d/cgroup.procs"; done
  # Host network (the cluster is on the host's 127.0.0.1); the .deb's dependencies are fetched
  # into a cache kept between runs, so only the first run downloads them.
  exec systemd-nspawn --boot --keep-unit --register=no --quiet -D "$tmp/root" \
    --machine="$name" --hostname="$name" --bind="$apt_cache:/var/cache/apt/archives"
) >"$tmp/console.log" 2>&1 </dev/null &
nspawn_pid=$!
for _ in $(seq 1 100); do
  # The container's PID 1 once it is systemd: before that, nspawn's child is still setting up
  # the namespaces, and commands entered there see a half-made container.
  ct_pid=$(pgrep -P "$nspawn_pid" | head -n 1 || true)
  [ -n "$ct_pid" ] && [ "$(cat "/proc/$ct_pid/comm" 2>/dev/null)" = systemd ] && break
  ct_pid=""
  kill -0 "$nspawn_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ct_pid" ] || { echo "FAIL: systemd-nspawn did not start a container"; exit 1; }
# Until systemd listens on its private socket, systemctl cannot reach it ("Failed to connect",
# or "offline").
state=""
for _ in $(seq 1 100); do
  state=$(ct timeout 60 systemctl is-system-running --wait 2>/dev/null || true)
  case $state in "" | offline) sleep 0.1 ;; *) break ;; esac
done
echo "container booted: $state (systemd $(ct systemctl --version | head -n 1 | awk '{print $2}'))"
case $state in running | degraded) ;; *) echo "FAIL: container did not boot: '$state'"; exit 1 ;; esac
[ "$state" = running ] || ct systemctl --failed --no-legend

# ---- install through apt
say "apt-get install ./$(basename "$deb")"
packages_before=$(ct dpkg-query -W -f='.\n' | wc -l)
ct apt-get update -qq >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; echo "FAIL: apt-get update"; exit 1; }
ct env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  "/root/$(basename "$deb")" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; echo "FAIL: apt-get install of the .deb"; exit 1; }
packages_after=$(ct dpkg-query -W -f='.\n' | wc -l)
echo "apt installed $((packages_after - packages_before)) packages (the .deb and its dependencies)"
[ "$(ct dpkg-query -W -f='${Status}' libgrpc++1.51)" = "install ok installed" ] ||
  fail "libgrpc++1.51 was not installed as a dependency"
ct getent passwd etcd-defragd >/dev/null || fail "no etcd-defragd user after install"
[ "$(prop UnitFileState)" = disabled ] || fail "the unit is $(prop UnitFileState) after install, not disabled"
[ "$(prop ActiveState)" = inactive ] || fail "the daemon runs before it was configured"
cmp -s "$tmp/root/usr/lib/systemd/system/etcd-defragd.service" "$src/systemd/etcd-defragd.service" ||
  fail "the installed unit is not systemd/etcd-defragd.service"
for f in /usr/share/etcd-defragd/grafana/etcd-defragd.json \
  /usr/share/etcd-defragd/prometheus/etcd-defragd.rules.yml \
  /usr/share/etcd-defragd/alertmanager.example.yml /usr/share/man/man1/etcd-defragd.1.gz \
  /usr/share/doc/etcd-defragd/copyright /usr/share/doc/etcd-defragd/changelog.gz; do
  [ -f "$tmp/root$f" ] || fail "the package did not install $f"
done

# ---- configure: the operator's config, and a drop-in with a short watchdog for this test
say "configure and start"
config=$tmp/root/etc/etcd-defragd/etcd-defragd.toml
write_config() {  # poll_interval
  cat >"$config" <<TOML
# Written by the operator (the system test).
[etcd]
endpoints = ["$first"]
local_endpoint = "$first"
command_timeout = "5s"
[policy]
poll_interval = "$1"
rule = "dbSizeFree > 8*1024*1024"
min_interval = "0s"
[http]
listen = "127.0.0.1:0"   # a free port, named in the 'ready:' line
TOML
}
write_config 2s
ct etcd-defragd check-config --config /etc/etcd-defragd/etcd-defragd.toml >/dev/null ||
  fail "check-config rejects the test's config"
mkdir -p "$tmp/root/etc/systemd/system/etcd-defragd.service.d"
# After WatchdogSec without a ping systemd sends SIGABRT (fatal even to a stopped process); if
# that did not end it, TimeoutAbortSec bounds the wait for SIGKILL (default TimeoutStopSec, 15 min).
cat >"$tmp/root/etc/systemd/system/etcd-defragd.service.d/test-watchdog.conf" <<EOF
[Service]
WatchdogSec=4s
TimeoutAbortSec=2s
EOF
ct systemctl daemon-reload

start_rc=0
ct systemctl start etcd-defragd.service || start_rc=$?
[ "$start_rc" -eq 0 ] || fail "systemctl start exited $start_rc"
pid1=$(prop MainPID)
echo "active: $(prop ActiveState) ($(prop SubState)), MainPID $pid1, Type=$(prop Type)"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "not active (running) after start"
# READY=1 comes after the first poll: the line the daemon logs with it is already in the journal
# when `systemctl start` returns, and the unit became active no earlier than that line.
ready_usec=$(journal_usec "$pid1" "ready: first poll done")
main_start_usec=$(prop ExecMainStartTimestampMonotonic)
active_usec=$(prop ActiveEnterTimestampMonotonic)
if [ -z "$ready_usec" ]; then
  fail "'systemctl start' returned before the daemon said READY (no 'ready:' line)"
else
  echo "process start -> READY=1: $(secs "$main_start_usec" "$ready_usec") s," \
    "-> active: $(secs "$main_start_usec" "$active_usec") s"
  # The line is logged just after sd_notify(READY=1); allow the journal's own 50 ms of skew.
  [ "$active_usec" -ge $((ready_usec - 50000)) ] || fail "active before READY=1"
fi
journal >"$tmp/journal.txt"
http_port=$(grep -oE 'ready: first poll done, listening on 127\.0\.0\.1:[0-9]+' "$tmp/journal.txt" |
  head -n 1 | sed 's/.*://')
healthz=$(curl -s --max-time 5 "http://127.0.0.1:${http_port:-0}/healthz" || true)
echo "GET /healthz on 127.0.0.1:${http_port:-?} (from the host): $healthz"
[ "$healthz" = ok ] || fail "/healthz did not answer ok"


# ---- it defragments the cluster by itself
say "the daemon defragments the fragmented cluster by itself"
wait_journal "run finished (rule): success" 60 || fail "no successful run within 60 s"
sizes_after=$(db_sizes)
echo "dbSize per member after: $sizes_after"
read -r -a before_arr <<<"$sizes_before"
read -r -a after_arr <<<"$sizes_after"
for i in 0 1 2; do
  [ "${after_arr[$i]:-0}" -lt $((before_arr[i] / 2)) ] ||
    fail "member $i: dbSize ${before_arr[$i]} -> ${after_arr[$i]:-?}, not halved"
done

# ---- the hardening is in effect on the live process
say "hardening of the running daemon"
status=$(ct cat "/proc/$pid1/status")
for want in "CapPrm:	0000000000000000" "CapEff:	0000000000000000" "CapBnd:	0000000000000000" \
  "CapAmb:	0000000000000000" "NoNewPrivs:	1" "Seccomp:	2"; do
  grep -qF "$want" <<<"$status" || fail "/proc/$pid1/status lacks '$want'"
done
uid=$(awk '/^Uid:/ {print $3}' <<<"$status")
[ "$uid" = "$(ct id -u etcd-defragd)" ] || fail "the daemon runs as uid $uid, not etcd-defragd"
root_opts=$(ct awk '$5 == "/" {print $6}' "/proc/$pid1/mountinfo" | tail -n 1)
[[ ",$root_opts," == *,ro,* ]] || fail "/ is not read-only for the daemon: $root_opts"
grep -E '^(Cap(Prm|Eff|Bnd)|NoNewPrivs|Seccomp):' <<<"$status" | tr '\n' ' '
echo "/ mounted $root_opts"
security=$(ct systemd-analyze security etcd-defragd.service | grep 'Overall exposure' || true)
echo "live: $security"
grep -Eq ': [0-9.]+ (OK|SAFE|PERFECT)' <<<"$security" || fail "exposure is not OK or better"

# ---- reload: a good config applies, a bad one is rejected, the PID stays
say "systemctl reload with a good and a bad config"
write_config 3s
ct systemctl reload etcd-defragd.service || fail "systemctl reload (good config) failed"
wait_journal "config reloaded" 10 || fail "a good config was not reloaded"
printf '[policy]\npoll_interval = "soon"\n' >"$config"
ct systemctl reload etcd-defragd.service || fail "systemctl reload (bad config) failed"
wait_journal "reload rejected" 10 || fail "a bad config was not rejected"
[ "$(prop MainPID)" = "$pid1" ] || fail "the PID changed on reload"
[ "$(prop ActiveState)" = active ] || fail "not active after a rejected reload"
write_config 2s
ct systemctl reload etcd-defragd.service || fail "systemctl reload failed"
wait_journal "config reloaded" 10 2 || fail "the good config was not reloaded again"

# ---- the watchdog: a frozen daemon is killed and restarted; the new one acts at once
say "SIGSTOP the daemon: the watchdog kills it, systemd restarts it"
runs_before=$(journal | grep -cF "run finished (rule): success" || true)
ct systemctl kill --signal=SIGSTOP etcd-defragd.service
# Fragment again meanwhile (overwrite one key with ~20 MB, compact): the restarted daemon has
# something to do.
head -c 1000000 /dev/urandom | base64 -w0 >"$tmp/value"
for _ in $(seq 1 16); do etcdctl put /edd-system-test/fill <"$tmp/value" >/dev/null; done
rev=$(etcdctl get /edd-system-test/fill -w json | jq -r .header.revision)
etcdctl del /edd-system-test/fill >/dev/null
etcdctl compact "$rev" --physical >/dev/null
pid2=""
for _ in $(seq 1 300); do
  p=$(prop MainPID)
  if [ "$p" != 0 ] && [ "$p" != "$pid1" ] && [ "$(prop ActiveState)" = active ]; then
    pid2=$p
    break
  fi
  sleep 0.1
done
if [ -z "$pid2" ]; then
  fail "no restart within 30 s of SIGSTOP"
  journal | tail -n 20
else
  ct journalctl --no-pager -o cat _PID=1 >"$tmp/pid1.txt"
  grep -F etcd-defragd "$tmp/pid1.txt" | grep -F "Watchdog timeout" ||
    fail "systemd did not report a watchdog timeout"
  restart_usec=$(prop ExecMainStartTimestampMonotonic)
  wd_usec=$(ct journalctl _PID=1 --no-pager -o json |
    jq -r 'select(.MESSAGE | type == "string" and contains("etcd-defragd.service: Watchdog timeout"))
           | .__MONOTONIC_TIMESTAMP' | tail -n 1)
  echo "watchdog timeout -> new process: $(secs "${wd_usec:-$restart_usec}" "$restart_usec") s" \
    "(SIGABRT ends even a stopped process; then RestartSec=5s)"
  acting_usec=""
  for _ in $(seq 1 450); do  # 90 s: longer than the 60 s TTL, to measure an old build too
    acting_usec=$(journal_usec "$pid2" "lock: this daemon is the actor")
    [ -n "$acting_usec" ] && break
    sleep 0.2
  done
  wait_journal "run finished (rule): success" 30 $((runs_before + 1)) ||
    fail "the restarted daemon did not defragment"
  run_usec=$(journal_usec "$pid2" "starting a run")
  if [ -z "$acting_usec" ]; then
    fail "the restarted daemon (PID $pid2) never took the lock within 90 s"
  else
    acting_s=$(secs "$restart_usec" "$acting_usec")
    echo "restart -> actor: $acting_s s; restart -> run started:" \
      "$(secs "$restart_usec" "${run_usec:-$acting_usec}") s (lock TTL 60 s)"
    awk -v s="$acting_s" 'BEGIN { exit !(s < 15) }' ||
      fail "the restarted daemon waited $acting_s s for its predecessor's lease"
  fi
  own=$(ct journalctl -u etcd-defragd.service "_PID=$pid2" --no-pager -o cat | grep -F "is held by" || true)
  [ -z "$own" ] || fail "the restarted daemon waited for a lock holder: $own"
  journal >"$tmp/journal.txt"
  grep -F "previous incarnation" "$tmp/journal.txt" || fail "no line about the predecessor's lease"
fi

# ---- stop
say "systemctl stop"
stop_start=$SECONDS
ct systemctl stop etcd-defragd.service || fail "systemctl stop failed"
echo "stopped in $((SECONDS - stop_start)) s: Result=$(prop Result), status $(prop ExecMainStatus)"
[ "$(prop Result)" = success ] || fail "Result=$(prop Result) after stop"
[ "$(prop ExecMainStatus)" = 0 ] || fail "the daemon exited $(prop ExecMainStatus) on stop"
wait_journal "stopped; lock released" 5 || fail "no 'stopped; lock released' line"

say "the journal has what an operator needs"
for line in "etcd-defragd 0.1" "ready: first poll done" "lock: this daemon is the actor" \
  "starting a run (rule" "run finished (rule): success" "config reloaded" "reload rejected" \
  "stopping (" "stopped; lock released"; do
  journal_has "$line" || fail "journalctl -u etcd-defragd lacks '$line'"
done
ct journalctl --no-pager -o cat _PID=1 | grep -F etcd-defragd | grep -E \
  'Started|Watchdog|Scheduled restart|Reloaded|Stopped' | sort | uniq -c | sed 's/^/    /'

# ---- upgrade with the daemon running
say "upgrade with the daemon running"
ct systemctl enable --now etcd-defragd.service 2>/dev/null || fail "systemctl enable --now failed"
pid3=$(prop MainPID)
dpkg-deb -R "$deb" "$tmp/v2"
sed -i -E 's/^Version: (.*)$/Version: \1+systemtest1/' "$tmp/v2/DEBIAN/control"
dpkg-deb --root-owner-group -b "$tmp/v2" "$tmp/root/root/etcd-defragd_next.deb" >/dev/null
ct env DEBIAN_FRONTEND=noninteractive apt-get install -y /root/etcd-defragd_next.deb >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get install of the newer .deb"; }
pid4=$(prop MainPID)
echo "upgraded to $(ct dpkg-query -W -f='${Version}' etcd-defragd): MainPID $pid3 -> $pid4," \
  "$(prop ActiveState) ($(prop SubState))"
[ "$pid4" != "$pid3" ] && [ "$pid4" != 0 ] || fail "the upgrade did not restart the daemon"
[ "$(prop ActiveState)" = active ] || fail "not running after the upgrade"
[ "$(prop UnitFileState)" = enabled ] || fail "the upgrade lost the unit's enablement"
grep -q "modified.*etcd-defragd.toml\|Configuration file" "$tmp/apt.log" &&
  fail "the upgrade asked about the config"
grep -qF "# Written by the operator" "$config" || fail "the upgrade replaced the operator's config"

# ---- remove, then purge
say "apt-get remove, then purge"
echo "token-made-by-the-operator" >"$tmp/root/etc/etcd-defragd/webhook.token"
ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y etcd-defragd >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get remove"; }
[ "$(prop ActiveState)" = inactive ] || fail "the daemon still runs after remove"
grep -qF "# Written by the operator" "$config" || fail "remove deleted the operator's config"
ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y etcd-defragd >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get purge"; }
ct getent passwd etcd-defragd >/dev/null && fail "purge left the etcd-defragd user"
ct getent group etcd-defragd >/dev/null && fail "purge left the etcd-defragd group"
for f in /usr/bin/etcd-defragd /usr/lib/systemd/system/etcd-defragd.service /usr/share/etcd-defragd \
  /usr/share/doc/etcd-defragd /etc/etcd-defragd/etcd-defragd.toml \
  /etc/systemd/system/multi-user.target.wants/etcd-defragd.service; do
  [ -e "$tmp/root$f" ] || [ -L "$tmp/root$f" ] && fail "purge left $f"
done
[ -f "$tmp/root/etc/etcd-defragd/webhook.token" ] || fail "purge deleted a file the operator added"
[ "$(prop LoadState)" = not-found ] || fail "systemd still knows the unit after purge: $(prop LoadState)"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "PASS: installed, ran, reloaded, restarted by the watchdog, upgraded and purged under systemd"
