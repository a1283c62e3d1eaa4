#!/usr/bin/env bash
# tests/secrets_grep.sh can fail: a planted secret is found and named, a clean record passes, an
# empty one is skipped (77), a record with secrets but no output is an error.
set -euo pipefail
script=$(dirname "$0")/secrets_grep.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
expect() {  # expect CODE DIR [TEXT]
  local out code=0
  out=$(bash "$script" "$2" 2>&1) || code=$?
  [ "$code" -eq "$1" ] || { echo "expected exit $1, got $code: $out"; exit 1; }
  [ -z "${3:-}" ] || grep -qF -- "$3" <<<"$out" || { echo "expected '$3' in: $out"; exit 1; }
  if [ "$1" -eq 1 ] && grep -qF "Pa55word-XYZ" <<<"$out"; then echo "the secret was printed"; exit 1; fi
}
expect 77 "$dir/none" "nothing to check"
mkdir -p "$dir/r/seen"
printf 'Pa55word-XYZ\n\nMHcCAQEEIK+key/line==\n' >"$dir/r/secrets"
expect 1 "$dir/r" "no output or log"
printf 'level=info msg="ready"\n' >"$dir/r/seen/1-daemon.log"
expect 0 "$dir/r" "none of 2 secrets appears in 1 files"
printf 'auth failed for root:Pa55word-XYZ\n' >"$dir/r/seen/output-7.txt"
expect 1 "$dir/r" "starting Pa5... appears in $dir/r/seen/output-7.txt"
rm "$dir/r/seen/output-7.txt"
printf 'key MHcCAQEEIK+key/line==\n' >"$dir/r/seen/2-etcd.log"
expect 1 "$dir/r" "2-etcd.log"
echo "secrets_grep: 5 cases ok"
