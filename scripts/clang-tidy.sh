#!/usr/bin/env bash
# clang-tidy over every daemon/**/*.cpp with the repository's .clang-tidy (the headers they
# include from daemon/ too), using a configured build directory's compile_commands.json.
#   scripts/clang-tidy.sh [BUILD_DIR]   default build; EDD_TIDY_JOBS parallel jobs (default 2)
# The build directory must have been built once (the gRPC stubs' generated headers); the script
# builds nothing, so it can run beside a build of the same directory. Each finding is printed
# once; the last line counts them. Exit 0 with none, 1 with any, 2 when it cannot run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
jobs=${EDD_TIDY_JOBS:-2}
fail() {
  echo "clang-tidy.sh: $*" >&2
  exit 2
}
command -v clang-tidy >/dev/null || fail "clang-tidy is not installed (scripts/install-deps.sh)"
[ -f "$build/compile_commands.json" ] || fail "no $build/compile_commands.json: configure first"
[ -n "$(find "$build/proto" -name rpc.grpc.pb.h 2>/dev/null)" ] ||
  fail "$build has no generated gRPC headers yet: build it first (target edd_proto)"

start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mapfile -t files < <(cd "$root" && find daemon -name '*.cpp' | sort)
status=0
# -Wno-error: the compiler's own warnings are the build's business (GCC's, with -Werror there);
# clang-tidy's checks are errors through WarningsAsErrors.
if command -v run-clang-tidy >/dev/null; then
  run-clang-tidy -quiet -p "$build" -j "$jobs" -extra-arg=-Wno-error \
    "${files[@]/#/$root/}" >"$log" 2>&1 || status=$?
else
  printf '%s\n' "${files[@]/#/$root/}" |
    xargs -P "$jobs" -n 1 clang-tidy --quiet -p "$build" --extra-arg=-Wno-error >"$log" 2>&1 ||
    status=$?
fi
# run-clang-tidy asks for colours; drop them. A header's finding shows once per file that
# includes it: print each finding (with its notes) once.
sed -i -E 's/\x1b\[[0-9;]*m//g' "$log"
findings=$(grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' "$log" | sort -u || true)
count=0
[ -z "$findings" ] || count=$(wc -l <<<"$findings")
if [ "$count" -gt 0 ]; then
  awk -v root="$root/" '
    /^\/.*:[0-9]+:[0-9]+: (warning|error): / { keep = !seen[$0]++ }
    /^[0-9]+ (warnings?|errors?) generated/ || /^(clang-tidy|Running|Error while processing)/ { keep = 0; next }
    keep { sub(root, ""); print }
  ' "$log"
elif [ "$status" -ne 0 ]; then
  cat "$log"  # clang-tidy itself failed (a file that does not compile, a bad option)
fi
echo "clang-tidy.sh: $count finding(s) in ${#files[@]} files, $((SECONDS - start)) s with $jobs jobs"
[ "$count" -eq 0 ] && [ "$status" -eq 0 ] || exit 1
