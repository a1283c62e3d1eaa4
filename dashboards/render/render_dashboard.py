#!/usr/bin/python3
"""Renders the Grafana dashboard's main time-series panels to one PNG, from a live Prometheus.

Grafana is not packaged for Debian, so this draws what the dashboard would show: for each chosen
panel it runs the panel's own queries (dashboards/grafana/etcd-defragd.json, variables replaced)
through Prometheus's query_range API and plots the series with gnuplot (Debian's gnuplot-nox).
Nothing is made up: no query, no line.

usage: render_dashboard.py PROMETHEUS_URL DASHBOARD_JSON OUT_PNG START END [STEP]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

PANELS = [
    "DB size, in use and quota per member",
    "Quota usage over time",
    "Fragmentation",
    "Bytes reclaimed",
    "Runs by trigger and result",
    "Actor lock by daemon",
]


def substitute(expr, step):
    expr = expr.replace("$cluster", ".*").replace("$member", ".*")
    expr = expr.replace("$__rate_interval", "%ds" % max(4 * step, 15))
    return expr.replace("$__interval", "%ds" % step).replace("$__range", "5m")


def query_range(url, expr, start, end, step):
    q = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(url + "/api/v1/query_range?" + q, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError("query failed: %s: %s" % (expr, body))
    return body["data"]["result"]


def legend(fmt, metric, expr):
    if not fmt:
        return ",".join("%s=%s" % kv for kv in sorted(metric.items())) or expr[:40]
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)


def scale(unit):
    if unit == "bytes":
        return 1e6, "MB"
    if unit == "percentunit":
        return 0.01, "%"
    return 1.0, unit or ""


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    url, dashboard, out, start, end = sys.argv[1:6]
    start, end = int(float(start)), int(float(end))
    step = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    with open(dashboard) as f:
        panels = {p["title"]: p for p in json.load(f)["panels"] if p.get("type") != "row"}
    work = tempfile.mkdtemp(prefix="edd-render-")
    script = [
        "set terminal pngcairo size 1400,1100 font 'DejaVu Sans,9'",
        "set output " + quote(out),
        "set multiplot layout 3,2 title " + quote(
            "etcd-defragd dashboard: a real 3-member etcd cluster, three daemons, one run "
            "(the panels' own queries, via Prometheus)"),
        "set grid",
        "set key top right font ',8'",
        "set xlabel 'seconds'",
    ]
    for n, title in enumerate(PANELS):
        panel = panels[title]
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        divisor, label = scale(unit)
        plots = []
        for t, target in enumerate(panel.get("targets", [])):
            expr = substitute(target["expr"], step)
            for s, series in enumerate(query_range(url, expr, start, end, step)):
                path = os.path.join(work, "p%d_t%d_s%d.dat" % (n, t, s))
                with open(path, "w") as f:
                    for ts, value in series["values"]:
                        f.write("%f %f\n" % (float(ts) - start, float(value) / divisor))
                name = legend(target.get("legendFormat", ""), series["metric"], expr)
                plots.append("%s using 1:2 with lines lw 2 title %s" % (quote(path), quote(name)))
        script.append("set title " + quote(title))
        script.append("set ylabel " + quote(label))
        if plots:
            script.append("plot " + ", ".join(plots))
        else:
            script.append("set label 1 'no data' at graph 0.5,0.5 center")
            script.append("plot [0:1] [0:1] NaN notitle")
            script.append("unset label 1")
    script.append("unset multiplot")
    gp = os.path.join(work, "dashboard.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", gp], check=True)
    print("wrote", out)


if __name__ == "__main__":
    main()
