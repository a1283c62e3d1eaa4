#!/usr/bin/env bash
# Debian's own checker on the release .deb (ctest label system): no error and no warning.
# Informational tags (-I --pedantic) are printed for the record; those we keep, and why:
#   binary-has-unneeded-section, hardening-no-bindnow, hardening-no-fortify-functions: CMake's
#     RelWithDebInfo flags, not dpkg-buildflags; the package is built by CPack, not debhelper.
#   package-supports-alternative-init-but-no-init.d-script: the daemon needs systemd (Type=notify,
#     watchdog, hardening); there is no sysvinit script on purpose.
#   spelling-error-in-binary matchin: a false positive: the compiler merged two string literals
#     ("... without a matching '('") in .rodata and lintian reads across them.
# Usage: lintian_test.sh SOURCE_DIR DEB_BUILD_DIR
#   the .deb comes from `scripts/build-deb.sh DEB_BUILD_DIR` (built there unless up to date)
set -euo pipefail
command -v lintian >/dev/null || { echo "FAIL: lintian not installed (scripts/install-deps.sh)"; exit 1; }
deb=$("$1/scripts/build-deb.sh" "$2") || { echo "FAIL: scripts/build-deb.sh $2"; exit 1; }
# --fail-on none: a non-zero exit is lintian itself failing, which must not pass as "no tags".
rc=0
out=$(lintian -I --pedantic --fail-on none "$deb" 2>&1) || rc=$?
out=$(grep -v 'running with root privileges' <<<"$out" || true)
[ "$rc" -eq 0 ] || { echo "$out"; echo "FAIL: lintian exited $rc"; exit 1; }
echo "lintian -I --pedantic $(basename "$deb"):"
echo "${out:-  (nothing)}"
explained='^I: etcd-defragd: (binary-has-unneeded-section|hardening-no-bindnow|'
explained+='hardening-no-fortify-functions|package-supports-alternative-init-but-no-init\.d-script|'
explained+='spelling-error-in-binary matchin matching) '
unexplained=$(grep -Ev "$explained" <<<"$out" | grep -E '^[EWIPX]: ' || true)
if [ -n "$unexplained" ]; then
  echo "FAIL: lintian tags nobody explained (fix them, or explain them in $0):"
  echo "$unexplained"
  exit 1
fi
echo "PASS: lintian: no error, no warning, every informational tag explained"
