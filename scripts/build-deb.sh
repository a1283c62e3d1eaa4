#!/usr/bin/env bash
# Builds the .deb as a release would: a plain RelWithDebInfo build of the daemon alone (no tests,
# no sanitizer, so the package needs only Debian's runtime libraries) in DIR, then CPack.
# Prints the path of the .deb. The system test (tests/e2e/system_test.sh) installs this one.
#   scripts/build-deb.sh [DIR]      DIR defaults to build-deb; builds incrementally
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$src/build-deb}
cmake=${CMAKE:-cmake}
cpack=${CPACK:-cpack}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# One build at a time in DIR: scripts/test.sh starts one in the background and the system test
# asks for the .deb again; the second waits, then finds nothing to rebuild.
exec 9>"$dir/.build-deb.lock"
flock 9
"$cmake" -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETCD_DEFRAGD_TESTS=OFF \
  -DETCD_DEFRAGD_SANITIZE=OFF >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log" >&2; exit 1; }
"$cmake" --build "$dir" -j"$(nproc)" --target etcd-defragd >"$dir/build.log" 2>&1 ||
  { tail -n 40 "$dir/build.log" >&2; exit 1; }
rm -f "$dir"/etcd-defragd_*.deb
(cd "$dir" && "$cpack" -G DEB >"$dir/cpack.log" 2>&1) || { cat "$dir/cpack.log" >&2; exit 1; }
debs=("$dir"/etcd-defragd_*.deb)
[ -f "${debs[0]}" ] || { echo "build-deb.sh: cpack made no .deb (see $dir/cpack.log)" >&2; exit 1; }
echo "${debs[0]}"
