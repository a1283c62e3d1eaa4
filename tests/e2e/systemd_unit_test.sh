#!/usr/bin/env bash
# What ships, checked offline (ctest label e2e; no running systemd, no root, no network):
#   1. `cmake --install` into a temporary prefix: the unit's ExecStart= follows the prefix and the
#      installed unit passes `systemd-analyze verify` with no warning about it; a second install
#      keeps an edited config;
#   2. `systemd-analyze security --offline=yes` rates the unit OK or better (exposure <= 4.9);
#   3. `cpack -G DEB` builds the .deb: binary, unit and config at their FHS paths, the config a
#      conffile, Depends from dpkg-shlibdeps (libgrpc++...) plus adduser, maintainer scripts;
#   4. the .deb unpacked with `dpkg-deb -x`: its unit is systemd/etcd-defragd.service byte for
#      byte, and its binary runs `version` and `check-config` on its example config.
# Everything goes to one temporary directory, removed on exit. CMake itself always rewrites
# BUILD_DIR/install_manifest.txt on an install; it is put back as it was.
#
# Usage: systemd_unit_test.sh SOURCE_DIR BUILD_DIR BINARY VERSION [CMAKE [CPACK]]
set -euo pipefail

src=$1
build=$2
binary=$3
version=$4
cmake=${5:-cmake}
cpack=${6:-cpack}
unit_src=$src/systemd/etcd-defragd.service
exec_line='ExecStart=/usr/bin/etcd-defragd run --config /etc/etcd-defragd/etcd-defragd.toml'

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
step() { echo "== $*"; }

for tool in systemd-analyze dpkg-deb dpkg-shlibdeps file "$cmake" "$cpack"; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool not installed (scripts/install-deps.sh)"
    exit 1
  fi
done
if [ ! -x "$binary" ]; then
  echo "FAIL: $binary not built (cmake --build <dir> --target etcd-defragd)"
  exit 1
fi
[ -f "$build/CPackConfig.cmake" ] || { echo "FAIL: $build/CPackConfig.cmake missing"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edd-systemd-test.XXXXXX")
manifest=$build/install_manifest.txt
had_manifest=false
if [ -e "$manifest" ]; then
  had_manifest=true
  cp -p "$manifest" "$tmp/install_manifest.txt.saved"
fi
cleanup() {
  if $had_manifest; then
    cp -p "$tmp/install_manifest.txt.saved" "$manifest"
  else
    rm -f "$manifest"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1. install into a temporary prefix; verify the installed unit
prefix=$tmp/prefix
step "cmake --install --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL: cmake --install"; exit 1; }
unit=$prefix/lib/systemd/system/etcd-defragd.service
config=$prefix/etc/etcd-defragd/etcd-defragd.toml
for f in "$prefix/bin/etcd-defragd" "$unit" "$config"; do
  [ -f "$f" ] || fail "cmake --install did not install $f"
done
[ -f "$unit" ] || { echo "FAIL: no unit to check"; exit 1; }
expected="ExecStart=$prefix/bin/etcd-defragd run --config $config"
grep -qxF "$expected" "$unit" ||
  fail "installed unit lacks '$expected': $(grep '^ExecStart=' "$unit")"
# Only ExecStart= differs from the source unit.
diff <(grep -v '^ExecStart=' "$unit_src") <(grep -v '^ExecStart=' "$unit") >/dev/null ||
  fail "installed unit differs from $unit_src beyond ExecStart="
grep -qxF "$exec_line" "$unit_src" || fail "$unit_src lacks '$exec_line'"

step "systemd-analyze verify $unit"
verify_rc=0
systemd-analyze verify "$unit" >"$tmp/verify.log" 2>&1 || verify_rc=$?
if grep -q 'etcd-defragd' "$tmp/verify.log"; then
  fail "systemd-analyze verify has something to say about the unit:"
  grep 'etcd-defragd' "$tmp/verify.log" | sed 's/^/    /'
elif [ -s "$tmp/verify.log" ]; then
  echo "note: output not about our unit (other units of this host):"
  sed 's/^/    /' "$tmp/verify.log"
fi
[ "$verify_rc" -eq 0 ] || fail "systemd-analyze verify exited $verify_rc"

step "an edited config survives a second install"
echo "# edited by the operator" >>"$config"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install2.log" 2>&1 ||
  { cat "$tmp/install2.log"; fail "second cmake --install"; }
tail -n 1 "$config" | grep -qxF "# edited by the operator" ||
  fail "cmake --install overwrote $config"

# ---- 2. exposure rating
step "systemd-analyze security --offline=yes"
security_rc=0
systemd-analyze security --offline=yes "$unit_src" >"$tmp/security.log" 2>&1 || security_rc=$?
overall=$(grep -o 'Overall exposure level for etcd-defragd.service: .*' "$tmp/security.log" || true)
if [ -z "$overall" ]; then
  cat "$tmp/security.log"
  fail "systemd-analyze security printed no overall exposure (exit $security_rc)"
else
  read -r exposure rating _ <<<"${overall#*: }"
  echo "exposure $exposure, rating $rating"
  grep '✗' "$tmp/security.log" | sed 's/^/    /' || true
  case "$rating" in
    PERFECT | SAFE | OK) ;;
    *) fail "exposure $exposure is rated $rating; OK or better (<= 4.9) is required" ;;
  esac
  [ "$security_rc" -eq 0 ] || fail "systemd-analyze security exited $security_rc"
fi

# ---- 3. the .deb
step "cpack -G DEB"
# Plain `cpack -G DEB` first builds the target `all` (every test, fuzzer and benchmark of the
# build tree), which is not this test's business. So cpack runs the same install script set up
# as its own install step sets it up: prefix /usr (the DEB generator's
# CPACK_PACKAGING_INSTALL_PREFIX), stripping on (CPACK_STRIP_FILES), DESTDIR set by cpack.
cat >"$tmp/cpack_install.cmake" <<CMAKE
set(CMAKE_INSTALL_PREFIX /usr)
set(CMAKE_INSTALL_DO_STRIP 1)
include("$build/cmake_install.cmake")
CMAKE
"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/cpack" \
  -D CPACK_INSTALL_CMAKE_PROJECTS= -D CPACK_INSTALL_SCRIPTS="$tmp/cpack_install.cmake" \
  >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
debs=("$tmp"/cpack/etcd-defragd_*.deb)
if [ ! -f "${debs[0]}" ]; then
  cat "$tmp/cpack.log"
  echo "FAIL: cpack made no etcd-defragd_*.deb"
  exit 1
fi
deb=${debs[0]}
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = etcd-defragd ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
depends=$(field Depends)
echo "Depends: $depends"
grep -Eq '(^|, )libgrpc\+\+[0-9.]+' <<<"$depends" || fail "Depends lacks libgrpc++ (dpkg-shlibdeps)"
grep -Eq '(^|, )libc6 ' <<<"$depends" || fail "Depends lacks libc6 (dpkg-shlibdeps)"
grep -Eq '(^|, )adduser(,|$| )' <<<"$depends" || fail "Depends lacks adduser (postinst uses it)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"

dpkg-deb -c "$deb" >"$tmp/contents"
check_entry() {  # path mode
  local line
  line=$(awk -v p="./$1" '$6 == p' "$tmp/contents")
  if [ -z "$line" ]; then
    fail "the .deb lacks /$1"
  elif ! grep -Eq "^$2 root/root " <<<"$line"; then
    fail "/$1 in the .deb is not $2 root/root: $line"
  fi
}
check_entry usr/bin/etcd-defragd -rwxr-xr-x
check_entry usr/lib/systemd/system/etcd-defragd.service -rw-r--r--
check_entry etc/etcd-defragd/etcd-defragd.toml -rw-r--r--
check_entry usr/share/etcd-defragd/grafana/etcd-defragd.json -rw-r--r--
check_entry usr/share/etcd-defragd/prometheus/etcd-defragd.rules.yml -rw-r--r--
check_entry usr/share/etcd-defragd/alertmanager.example.yml -rw-r--r--
check_entry usr/share/man/man1/etcd-defragd.1.gz -rw-r--r--
check_entry usr/share/doc/etcd-defragd/copyright -rw-r--r--
check_entry usr/share/doc/etcd-defragd/changelog.gz -rw-r--r--
allowed="./ ./etc/ ./etc/etcd-defragd/ ./etc/etcd-defragd/etcd-defragd.toml ./usr/ ./usr/bin/
./usr/bin/etcd-defragd ./usr/lib/ ./usr/lib/systemd/ ./usr/lib/systemd/system/
./usr/lib/systemd/system/etcd-defragd.service ./usr/share/ ./usr/share/etcd-defragd/
./usr/share/etcd-defragd/grafana/ ./usr/share/etcd-defragd/grafana/etcd-defragd.json
./usr/share/etcd-defragd/prometheus/ ./usr/share/etcd-defragd/prometheus/etcd-defragd.rules.yml
./usr/share/etcd-defragd/prometheus/etcd-defragd.rules.test.yml
./usr/share/etcd-defragd/alertmanager.example.yml ./usr/share/man/ ./usr/share/man/man1/
./usr/share/man/man1/etcd-defragd.1.gz ./usr/share/doc/ ./usr/share/doc/etcd-defragd/
./usr/share/doc/etcd-defragd/copyright ./usr/share/doc/etcd-defragd/changelog.gz"
extra=$(awk '{print $6}' "$tmp/contents" | grep -vxF -f <(tr ' ' '\n' <<<"$allowed") || true)
[ -z "$extra" ] || fail "the .deb holds unexpected files: $extra"

dpkg-deb -e "$deb" "$tmp/control"
grep -qxF /etc/etcd-defragd/etcd-defragd.toml "$tmp/control/conffiles" 2>/dev/null ||
  fail "/etc/etcd-defragd/etcd-defragd.toml is not a conffile"
for script in postinst prerm postrm; do
  if [ ! -x "$tmp/control/$script" ]; then
    fail "the .deb has no executable $script"
  else
    sh -n "$tmp/control/$script" || fail "$script: syntax error"
  fi
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst creates no system user"
# Through deb-systemd-helper/-invoke (lintian: maintainer-script-calls-systemctl); only
# `systemctl daemon-reload` is called directly, as dh_installsystemd does.
for script in postinst prerm postrm; do
  if sed 's/#.*//' "$tmp/control/$script" | grep -E '\bsystemctl\b' | grep -qv daemon-reload; then
    fail "$script calls systemctl for more than daemon-reload"
  fi
done
if sed 's/#.*//' "$tmp/control/postinst" | grep -Eq '(systemctl|deb-systemd-invoke) +(enable|start)\b'; then
  fail "postinst enables or starts the service; operators configure it first"
fi

# ---- 4. unpack and run
step "dpkg-deb -x, then run the unpacked binary"
root=$tmp/root
dpkg-deb -x "$deb" "$root"
cmp -s "$root/usr/lib/systemd/system/etcd-defragd.service" "$unit_src" ||
  fail "the packaged unit differs from $unit_src"
cmp -s "$root/etc/etcd-defragd/etcd-defragd.toml" "$src/config/etcd-defragd.toml" ||
  fail "the packaged config differs from config/etcd-defragd.toml"
file "$root/usr/bin/etcd-defragd" | grep -q ', stripped' ||
  fail "the packaged binary is not stripped"
if out=$("$root/usr/bin/etcd-defragd" version 2>&1); then
  echo "version: $out"
  grep -qF "$version" <<<"$out" || fail "'etcd-defragd version' does not say $version"
else
  fail "'etcd-defragd version' failed: $out"
fi
packaged_config=$root/etc/etcd-defragd/etcd-defragd.toml
if out=$("$root/usr/bin/etcd-defragd" check-config --config "$packaged_config" 2>&1); then
  echo "check-config: $out"
else
  fail "check-config on the packaged example failed: $out"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "PASS: unit verifies, exposure $exposure $rating, $(basename "$deb") installs"
