#!/usr/bin/env bash
# The whole suite's secrets check (see tests/harness/test_record.h): no password, token or private
# key line the tests made appears in anything the tests saw — command output (the CLI, curl's
# HTTP answers, etcdctl) and every log file of the clusters, daemons, Prometheus and
# Alertmanager. Usage: secrets_grep.sh RECORD_DIR. Exit 0 clean, 1 a secret leaked (its file is
# named, the secret only by its first 3 characters), 77 when no test of this run made a secret.
set -euo pipefail
record=${1:?usage: secrets_grep.sh RECORD_DIR}
seen=$record/seen
secrets=$(mktemp)
trap 'rm -f "$secrets"' EXIT
# An empty pattern would match every line: only non-empty secrets, each once.
[ -f "$record/secrets" ] && grep -v '^$' "$record/secrets" | sort -u >"$secrets" || true
if [ ! -s "$secrets" ]; then
  echo "secrets_grep: no test of this run made a secret; nothing to check"
  exit 77
fi
files=$(find "$seen" -type f 2>/dev/null | wc -l)
if [ "$files" -eq 0 ]; then
  echo "secrets_grep: $(wc -l <"$secrets") secrets recorded but no output or log: the record is broken"
  exit 1
fi
bytes=$(du -sb "$seen" | cut -f1)
if grep -r -l -F -f "$secrets" "$seen" >/dev/null; then
  while IFS= read -r s; do
    { grep -r -l -F -e "$s" "$seen" || true; } |
      sed "s|^|secrets_grep: a secret starting ${s:0:3}... appears in |"
  done <"$secrets"
  exit 1
fi
echo "secrets_grep: none of $(wc -l <"$secrets") secrets appears in $files files ($bytes bytes) of output and logs"
