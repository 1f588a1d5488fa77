#!/usr/bin/env python3
"""Median, min and max of andon-bench JSON reports, grouped by label.

Input lines: `<label>\t<one andon-bench --json object>` (what run-matrix.sh writes).
"""
import json
import statistics
import sys

METRICS = [
    ("delivered/s", lambda r: r["delivered_per_s"]),
    ("acked/s", lambda r: r["acked_per_s"]),
    ("e2e p50 ms", lambda r: (r["latency"] or {}).get("p50_ms")),
    ("e2e p99 ms", lambda r: (r["latency"] or {}).get("p99_ms")),
    ("e2e max ms", lambda r: (r["latency"] or {}).get("max_ms")),
    ("ack p50 ms", lambda r: (r["ack_latency"] or {}).get("p50_ms")),
    ("ack p99 ms", lambda r: (r["ack_latency"] or {}).get("p99_ms")),
    ("op p50 ms", lambda r: (r["op_latency"] or {}).get("p50_ms")),
    ("op p99 ms", lambda r: (r["op_latency"] or {}).get("p99_ms")),
    ("connects/s", lambda r: r["connects_per_s"]),
    ("bytes/conn", lambda r: (r["memory"] or {}).get("per_connection_bytes")),
    ("rss bytes/conn", lambda r: (r["memory"] or {}).get("server_rss_per_connection_bytes")),
    ("p99 after/before", lambda r: (r["extra"] or {}).get("p99_ratio_after_vs_before") if isinstance(r["extra"], dict) else None),
    ("errors", lambda r: sum(r["errors"].values())),
    ("cpu server s", lambda r: r["cpu"]["server_s"]),
    ("cpu postgres s", lambda r: r["cpu"]["postgres_s"]),
    ("cpu harness s", lambda r: r["cpu"]["harness_s"]),
    ("cpu other s", lambda r: r["cpu"].get("other_s")),
    ("cpu nats s", lambda r: r["cpu"].get("nats_s")),
    ("server µs/delivery", lambda r: r.get("server_cpu_us_per_delivery")),
    ("server µs/ack", lambda r: r.get("server_cpu_us_per_ack")),
    ("srv+nats µs/deliv", lambda r: per_op(r, "delivered")),
    ("srv+nats µs/ack", lambda r: per_op(r, "acked")),
    ("order: missing", lambda r: (r.get("delivery_check") or {}).get("missing")),
    ("order: dup/out", lambda r: (r.get("delivery_check") or {}).get("not_ascending")),
    ("order: incomplete", lambda r: incomplete(r)),
    ("order: ended early", lambda r: (r.get("delivery_check") or {}).get("ended_early")),
]


def per_op(r, count):
    """Server and NATS CPU per operation, µs (the cost of the bus included)."""
    n = r.get(count) or 0
    if not n or not r["cpu"]["server_s"]:
        return None
    return (r["cpu"]["server_s"] + r["cpu"].get("nats_s", 0)) * 1e6 / n


def incomplete(r):
    d = r.get("delivery_check")
    return None if d is None else d["receivers"] - d["complete"]


def node_cpu(r, k):
    per_node = r["cpu"].get("server_per_node_s") or []
    return per_node[k] if k < len(per_node) else None


def extra_metrics(reports):
    """The scenario's own `[name, value]` pairs in `extra.metrics` (`report`), in
    the order the first report lists them."""
    names = []
    for r in reports:
        extra = r["extra"] if isinstance(r["extra"], dict) else {}
        for name, _ in extra.get("metrics") or []:
            if name not in names:
                names.append(name)
    return [(name, lambda r, name=name: extra_metric(r, name)) for name in names]


def extra_metric(r, name):
    extra = r["extra"] if isinstance(r["extra"], dict) else {}
    return next((v for n, v in extra.get("metrics") or [] if n == name), None)


def node_metrics(reports):
    """`cpu node<k> s` for every node any report has (more than one)."""
    nodes = max((len(r["cpu"].get("server_per_node_s") or []) for r in reports), default=0)
    if nodes < 2:
        return []
    return [
        (f"cpu node{k} s", lambda r, k=k: node_cpu(r, k))
        for k in range(nodes)
    ]


runs = {}
for line in sys.stdin:
    if "\t" not in line:
        continue
    label, text = line.rstrip("\n").split("\t", 1)
    try:
        runs.setdefault(label, []).append(json.loads(text))
    except json.JSONDecodeError:
        continue

for label, reports in runs.items():
    print(f"## {label} ({len(reports)} runs)")
    for name, get in METRICS + node_metrics(reports) + extra_metrics(reports):
        values = [v for v in (get(r) for r in reports) if v is not None]
        if not values:
            continue
        med = statistics.median(values)
        print(f"  {name:<22} median {med:>12.2f}   min {min(values):>12.2f}   max {max(values):>12.2f}")
