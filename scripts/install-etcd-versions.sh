#!/usr/bin/env bash
# Builds the etcd servers the tests run (beside Debian's 3.4) from the etcd Go modules, and
# installs the reference CLI etcd-defrag, into a cache outside the source tree:
#   $EDD_CACHE_DIR (default ~/.cache/etcd-defragd)/etcd-v<version>/{etcd,etcdctl}
#   $EDD_CACHE_DIR/etcd-<minor> -> the release tests use for that line (etcd-3.4: Debian's)
#   $EDD_CACHE_DIR/etcd-defrag  -> the real etcd-defrag, when the module proxy serves it
#   $EDD_CACHE_DIR/dashboard-schema -> the Grafana dashboard schema check (scripts/dashboard-schema)
# Usage: install-etcd-versions.sh [3.4|3.5|3.6|3.7|x.y.z|etcd-defrag|dashboard-schema ...]
#        (default: all)
# A version already built is not built again. The harness picks one with EDD_ETCD_VERSION.
set -euo pipefail
cd "$(dirname "$0")"

# The newest patch release of each line the Go module proxy served on 2026-12-03, and 3.6.4:
# the last 3.6 that reports dbSizeQuota 0 for an unset quota (etcd #20786, fixed in 3.6.6) and
# has the defrag/applySnapshot race (#20653, fixed in 3.6.5), so both are tested on a real server.
declare -A line_release=([3.5]=3.5.35 [3.6]=3.6.16 [3.7]=3.7.3)
extra_versions=(3.6.4)
etcd_defrag_version=v0.42.0
# Grafana's published dashboard schema as Go types (Apache-2.0), for tests/e2e/dashboards_test.sh.
grafana_sdk_version=v0.0.22

cache=${EDD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-defragd}
mkdir -p "$cache"
export GOFLAGS=${GOFLAGS:--buildvcs=false}

# The version an etcd binary reports ("" when it does not run). Read whole: `| grep -q` would
# end the pipe early and fail it under pipefail.
version_of() {
  local text
  text=$("$1" --version 2>/dev/null) || return 0
  sed -n 's/^etcd Version: //p' <<<"$text"
}

# etcd and etcdctl of one release, from a main module of our own (scripts/etcd-build) that
# imports etcdmain and ctlv3 at that version.
build_etcd() {
  local version=$1 out=$cache/etcd-v$1
  if [ -x "$out/etcdctl" ] && [ "$(version_of "$out/etcd")" = "$version" ]; then
    return 0
  fi
  local src=$cache/build/v$version start=$SECONDS
  echo "install-etcd-versions: building etcd $version from its Go modules"
  rm -rf "$src" && mkdir -p "$src" "$out"
  cp -r etcd-build/etcd etcd-build/etcdctl "$src/"
  (
    cd "$src"
    go mod init edd.test/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@v$version" "go.etcd.io/etcd/etcdctl/v3@v$version" \
      >get.log 2>&1 || { cat get.log >&2; exit 1; }
    go build -trimpath -o "$out/etcd" ./etcd
    go build -trimpath -o "$out/etcdctl" ./etcdctl
  )
  [ "$(version_of "$out/etcd")" = "$version" ] || {
    echo "install-etcd-versions: $out/etcd does not report $version" >&2
    exit 1
  }
  echo "install-etcd-versions: etcd $version built in $((SECONDS - start)) s"
}

# The reference CLI for the compat tests and the benchmark. The module proxy may refuse it (it
# answered 403 on 2026-12-03): then those tests say so and skip; EDD_ETCD_DEFRAG can name a
# binary built elsewhere.
install_etcd_defrag() {
  local bin=$cache/etcd-defrag-$etcd_defrag_version/etcd-defrag
  if [ ! -x "$bin" ]; then
    if GOBIN=$(dirname "$bin") go install "github.com/ahrtr/etcd-defrag@$etcd_defrag_version" \
      >"$cache/etcd-defrag-install.log" 2>&1; then
      echo "install-etcd-versions: etcd-defrag $etcd_defrag_version installed"
    else
      echo "install-etcd-versions: go install github.com/ahrtr/etcd-defrag@$etcd_defrag_version" \
        "failed: $(tail -n 1 "$cache/etcd-defrag-install.log")"
      echo "install-etcd-versions: the compat tests against etcd-defrag will be skipped"
      return 0
    fi
  fi
  ln -sfn "$bin" "$cache/etcd-defrag"
}

# Our dashboard schema check (scripts/dashboard-schema/main.go), built against the
# grafana-foundation-sdk release pinned above.
build_dashboard_schema() {
  local out=$cache/dashboard-schema-$grafana_sdk_version src=$cache/build/dashboard-schema
  if [ ! -x "$out/dashboard-schema" ] || [ dashboard-schema/main.go -nt "$out/dashboard-schema" ]; then
    rm -rf "$src" && mkdir -p "$src" "$out"
    cp dashboard-schema/main.go "$src/"
    (
      cd "$src"
      go mod init edd.test/dashboard-schema >/dev/null 2>&1
      go get "github.com/grafana/grafana-foundation-sdk/go@$grafana_sdk_version" >get.log 2>&1 ||
        { cat get.log >&2; exit 1; }
      go build -trimpath -o "$out/dashboard-schema" .
    )
    echo "install-etcd-versions: dashboard-schema built (grafana-foundation-sdk $grafana_sdk_version)"
  fi
  ln -sfn "$out/dashboard-schema" "$cache/dashboard-schema"
}

# Debian's etcd-server/etcd-client 3.4 (scripts/install-deps.sh) under the same layout.
mkdir -p "$cache/etcd-3.4"
ln -sfn /usr/bin/etcd "$cache/etcd-3.4/etcd"
ln -sfn /usr/bin/etcdctl "$cache/etcd-3.4/etcdctl"
# Only Debian's 3.4 asked for (the demo's default): nothing to build.
[ "$*" != "3.4" ] || exit 0

# The machines come with a current Go in /usr/local/go (Debian 12's golang-go 1.19 is too old for
# etcd 3.6+, which needs 1.23+).
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "install-etcd-versions: no Go toolchain on PATH" >&2; exit 1; }
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(3.5 3.6 3.7 "${extra_versions[@]}" etcd-defrag dashboard-schema)
for want in "${wanted[@]}"; do
  case $want in
    3.4) ;;
    3.5 | 3.6 | 3.7)
      build_etcd "${line_release[$want]}"
      ln -sfn "etcd-v${line_release[$want]}" "$cache/etcd-$want"
      ;;
    3.*.*) build_etcd "$want" ;;
    etcd-defrag) install_etcd_defrag ;;
    dashboard-schema) build_dashboard_schema ;;
    *)
      echo "install-etcd-versions: unknown version '$want'" \
        "(3.4, 3.5, 3.6, 3.7, x.y.z, etcd-defrag, dashboard-schema)" >&2
      exit 2
      ;;
  esac
done
installed=""
for dir in "$cache"/etcd-3.? "$cache"/etcd-v*; do
  [ -x "$dir/etcd" ] && installed+="${dir##*/}=$(version_of "$dir/etcd") "
done
echo "install-etcd-versions: in $cache: ${installed}$([ -x "$cache/etcd-defrag" ] && echo etcd-defrag)"
