#!/usr/bin/env bash
# Offline checks of dashboards/ and config/alertmanager.example.yml (ctest label e2e):
#   - promtool check rules + promtool test rules on the alert rules;
#   - amtool check-config on the Alertmanager example, and its routing of our alerts;
#   - the Grafana dashboard: valid JSON, uid, schemaVersion, the datasource/cluster/member
#     variables, every panel with a datasource and at least one target with an expr, per-member
#     queries aggregated by member, and every expr (targets and annotations), with the Grafana
#     variables substituted, valid PromQL: they go into a temporary rules file as recording rules
#     (record: edd:panel_N) that `promtool check rules` parses offline;
#   - the dashboard decoded strictly against Grafana's dashboard schema (scripts/dashboard-schema,
#     grafana-foundation-sdk), and six planted typos each rejected with the field named.
# Usage: dashboards_test.sh [SOURCE_DIR]   (default: this script's ../..)
set -euo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
rules=$src/dashboards/prometheus/etcd-defragd.rules.yml
rules_test=$src/dashboards/prometheus/etcd-defragd.rules.test.yml
dashboard=$src/dashboards/grafana/etcd-defragd.json
am_config=$src/config/alertmanager.example.yml

for tool in promtool amtool jq; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
step() { echo "== $*"; }

step "promtool check rules"
promtool check rules "$rules" || fail "promtool check rules $rules"

step "every alert has severity, summary, description and a runbook_url"
# Read from the source (no YAML parser here): each alert block names the four keys before the
# next alert.
awk '
  /^ *- alert: / { if (name != "") check(); name = $3; seen = "" ; next }
  /^ *severity: /    { seen = seen " severity" }
  /^ *summary: /     { seen = seen " summary" }
  /^ *description: / { seen = seen " description" }
  /^ *runbook_url: / { seen = seen " runbook_url" }
  function check() {
    n = split("severity summary description runbook_url", keys, " ")
    for (i = 1; i <= n; i++) if (index(seen " ", " " keys[i] " ") == 0) {
      print "alert " name " lacks " keys[i]; bad = 1
    }
  }
  END { if (name != "") check(); exit bad }
' "$rules" || fail "alert annotations/labels missing"

step "every alert is unit-tested firing and not firing"
for alert in $(sed -n 's/^ *- alert: *//p' "$rules"); do
  # A test block of this alert with exp_alerts: [] (not firing) and one with exp_labels (firing).
  awk -v a="$alert" '
    /alertname:/ { cur = $2; next }
    /exp_alerts: \[\]/ { if (cur == a) quiet = 1; next }
    /exp_labels:/ { if (cur == a) fired = 1 }
    END { exit !(quiet && fired) }
  ' "$rules_test" || fail "alert $alert needs a firing and a not-firing case in $(basename "$rules_test")"
done

step "promtool test rules"
(cd "$(dirname "$rules_test")" && promtool test rules "$(basename "$rules_test")") ||
  fail "promtool test rules $rules_test"

step "amtool check-config"
amtool check-config "$am_config" || fail "amtool check-config $am_config"

step "Alertmanager routing of our alerts"
route() {  # route <expected receivers> <labels...>
  local want=$1
  shift
  amtool config routes test --config.file="$am_config" --verify.receivers="$want" "$@" \
    2>/dev/null || fail "labels $* should route to $want"
}
route etcd-defragd,default alertname=EtcdDefragdQuotaUsageHigh remediation=etcd-defrag member=m0
route etcd-defragd,default alertname=EtcdDefragdQuotaUsageCritical remediation=etcd-defrag
route default alertname=EtcdDefragdNoSpaceAlarm member=m0
route default alertname=SomethingElse
grep -q 'type: Bearer' "$am_config" && grep -q 'credentials_file:' "$am_config" ||
  fail "the webhook must send the bearer token from a credentials_file"
grep -q 'send_resolved: true' "$am_config" || fail "send_resolved: true missing"

step "Grafana dashboard: JSON and structure"
if ! jq empty "$dashboard"; then
  fail "$dashboard is not valid JSON"
else
  check() {  # check <description> <jq filter that must output true>
    [ "$(jq -r "$2" "$dashboard")" = "true" ] || fail "dashboard: $1"
  }
  check "uid etcd-defragd" '.uid == "etcd-defragd"'
  check "a title" '(.title // "") != ""'
  check "schemaVersion >= 36 (Grafana 10 imports it)" '.schemaVersion >= 36'
  check "a datasource variable of type datasource, query prometheus" \
    '[.templating.list[] | select(.name == "datasource" and .type == "datasource" and .query == "prometheus")] | length == 1'
  check "cluster query variable over etcd_defragd_build_info, with All" \
    '[.templating.list[] | select(.name == "cluster" and .type == "query" and .includeAll and (.definition | test("label_values\\(etcd_defragd_build_info, *cluster\\)")))] | length == 1'
  check "member query variable with All" \
    '[.templating.list[] | select(.name == "member" and .type == "query" and .includeAll)] | length == 1'
  check "variables use the datasource variable" \
    '[.templating.list[] | select(.type == "query") | .datasource.uid == "${datasource}"] | all'
  # Panels: top level and inside collapsed rows.
  panels='[.panels[], (.panels[] | select(.type == "row") | .panels[]?)] | map(select(.type != "row"))'
  check "at least 15 panels" "$panels | length >= 15"
  check "unique panel ids" "[.panels[], (.panels[] | .panels[]?)] | map(.id) | (length == (unique | length))"
  check "every panel uses \${datasource}" "$panels | map(.datasource.uid == \"\${datasource}\") | all"
  check "every panel has a title and a description" "$panels | map((.title // \"\") != \"\" and (.description // \"\") != \"\") | all"
  check "every panel has a target with an expr" "$panels | map((.targets // []) | map((.expr // \"\") != \"\") | (length > 0 and all)) | all"
  check "every target uses \${datasource}" "$panels | map(.targets[] | .datasource.uid == \"\${datasource}\") | all"
  check "panels fit the 24-column grid" "$panels | map(.gridPos.x + .gridPos.w <= 24) | all"
  check "an annotation on defrag runs" \
    '[.annotations.list[] | select((.expr // "") | test("etcd_defragd_last_run_timestamp_seconds"))] | length >= 1'
  for unit in bytes percentunit s; do
    check "some panel in unit $unit" "[$panels[] | .fieldConfig.defaults.unit] | index(\"$unit\") != null"
  done

  step "Grafana dashboard: per-member series aggregated by member"
  jq -r "$panels | .[] | .title as \$t | .targets[] | [\$t, .expr] | @tsv" "$dashboard" > "$tmp/exprs.tsv"
  while IFS=$'\t' read -r title expr; do
    case $expr in
      *etcd_defragd_member_*)
        # Every selector of a per-member family sits in an aggregation that keeps `member`.
        [[ $expr == *"by (member"* ]] || fail "panel '$title': per-member query not aggregated by member: $expr"
        [[ $expr == *'member=~"$member"'* ]] || fail "panel '$title': per-member query ignores \$member: $expr"
        ;;
    esac
    [[ $expr == *'cluster=~"$cluster"'* ]] || fail "panel '$title': query ignores \$cluster: $expr"
  done < "$tmp/exprs.tsv"

  step "Grafana dashboard: every expr is valid PromQL after variable substitution"
  {
    echo "groups:"
    echo "  - name: dashboard-panel-queries"
    echo "    rules:"
    jq -r '[.. | objects | select(has("expr")) | .expr] | .[]' "$dashboard" |
      sed -e 's/\$__rate_interval/1m/g' -e 's/\$cluster/.*/g' -e 's/\$member/.*/g' |
      awk '{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); printf "      - record: edd:panel_%d\n        expr: \"%s\"\n", NR, $0 }'
  } > "$tmp/panel-queries.rules.yml"
  grep -q 'expr:' "$tmp/panel-queries.rules.yml" || fail "no expr found in the dashboard"
  if grep -n '\$' "$tmp/panel-queries.rules.yml"; then
    fail "variables left after substitution (only \$cluster, \$member, \$__rate_interval are allowed)"
  fi
  promtool check rules "$tmp/panel-queries.rules.yml" || {
    cat -n "$tmp/panel-queries.rules.yml"
    fail "dashboard queries are not valid PromQL"
  }
fi

step "Grafana dashboard: decoded strictly against Grafana's dashboard schema"
# scripts/dashboard-schema: grafana-foundation-sdk's dashboard types, strict (an unknown or
# misspelt field, a wrong type or a missing required one fails), per panel type and query type.
schema_check=${EDD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-defragd}/dashboard-schema
if [ ! -x "$schema_check" ]; then
  fail "$schema_check not built (scripts/install-etcd-versions.sh dashboard-schema)"
else
  "$schema_check" "$dashboard" || fail "the dashboard does not match Grafana's dashboard schema"
  # It must catch a misspelt field wherever it is (a panel, its field config, its options, a
  # query, a variable) and an unknown panel type, and name it.
  n=0
  # Each case: the text, what replaces its first occurrence, and the word the error must name.
  for case in '"gridPos"|"gridPoss"|gridPoss' '"unit": "bytes"|"unti": "bytes"|unti' \
    '"reduceOptions"|"reduceOption"|reduceOption' '"legendFormat"|"legendFromat"|legendFromat' \
    '"includeAll"|"includeAl"|includeAl' '"type": "timeseries"|"type": "timeserie"|timeserie'; do
    IFS='|' read -r good typo named <<<"$case"
    n=$((n + 1))
    sed "0,/$good/s//$typo/" "$dashboard" >"$tmp/typo-$n.json"
    if "$schema_check" "$tmp/typo-$n.json" >"$tmp/typo-$n.out"; then
      fail "the schema check accepted the dashboard with $typo"
    elif ! grep -q "$named" "$tmp/typo-$n.out"; then
      fail "the schema check rejected $typo without naming $named: $(cat "$tmp/typo-$n.out")"
    else
      echo "  rejected $typo: $(grep -m1 "$named" "$tmp/typo-$n.out" | sed 's/^ *//')"
    fi
  done
fi

if [ "$failures" -ne 0 ]; then
  echo "dashboards_test: $failures failure(s)"
  exit 1
fi
echo "dashboards_test: all checks passed"
