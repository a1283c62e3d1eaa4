#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/: the rule parser, the TOML config loader, the webhook
# payload parser; clang with ASan + UBSan) for FUZZ_SECONDS each (default 60), all at once, each on
# a scratch copy of its seed corpus so new inputs stay out of the repo. Prints each target's
# executions; exits non-zero on a crash, leak or sanitizer report (the reproducer is kept in
# build-fuzz/artifacts/). A longer local run: FUZZ_SECONDS=3600 scripts/test-fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=(rule config webhook)
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETCD_DEFRAGD_FUZZ=ON \
  >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'edd_%s_fuzz ' "${targets[@]}")
work=build-fuzz/run
rm -rf "$work"
mkdir -p "$work" build-fuzz/artifacts
pids=()
for t in "${targets[@]}"; do
  cp -r "tests/fuzz/corpus/$t" "$work/$t"
  "build-fuzz/tests/fuzz/edd_${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/artifacts/"$t"- "$work/$t" >"$work/$t.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  status=0
  wait "${pids[$i]}" || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
  corpus=$(find "$work/$t" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    echo "fuzz $t: ${runs:-?} executions in ${seconds} s, corpus $corpus inputs, no crash"
  else
    failed=1
    echo "fuzz $t: FAILED (exit $status) after ${runs:-?} executions; reproducer in build-fuzz/artifacts/"
    grep -E "ERROR|SUMMARY|runtime error" "$work/$t.log" | head -n 5
  fi
done
exit "$failed"
