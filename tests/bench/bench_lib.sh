# What the run_*_bench.sh scripts share; sourced from the repository's root.
#   bench_parse_args "$@"   build_dir (the first argument unless it is --, default build) and
#                           bench_args (what follows --, for the benchmark itself)
#   bench_build TARGET...   configures build_dir (BUILD_TYPE when set) and builds the targets and
#                           etcd-defragd (the bench targets are not part of `all`)

bench_parse_args() {
  build_dir=build
  if [[ $# -gt 0 && $1 != -- ]]; then
    build_dir=$1
    shift
  fi
  [[ ${1:-} == -- ]] && shift
  bench_args=("$@")
}

bench_build() {
  local configure=(cmake -S . -B "$build_dir")
  [[ -n ${BUILD_TYPE:-} ]] && configure+=(-DCMAKE_BUILD_TYPE="$BUILD_TYPE")
  "${configure[@]}" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target "$@" etcd-defragd >/dev/null
}
