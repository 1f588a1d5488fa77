#!/usr/bin/env bash
# Runs every scenario of docs/BENCHMARKS.md N times (default 3), appending
# `<label>\t<json>` lines to $OUT (default bench-results.tsv), then summarizes.
# Usage: benches/harness/run-matrix.sh [runs] [label-filter-regex]
# The `-3nodes` rows start three `andon serve` nodes on one database, joined by the
# NATS server at nats://127.0.0.1:4222 (`--nats-url` to change it).
set -uo pipefail
runs=${1:-3}
filter=${2:-.}
out=${OUT:-bench-results.tsv}
bench=${BENCH:-${CARGO_TARGET_DIR:-target}/release/andon-bench}

matrix=(
  "fanout-1x1000|fanout --rooms 1 --members 1000 --senders 10 --rate 600 --duration 10"
  "fanout-1x1000-3nodes|fanout --rooms 1 --members 1000 --senders 10 --rate 600 --duration 10 --nodes 3"
  "fanout-1x1000-ephemeral|fanout --rooms 1 --members 1000 --rate 600 --duration 10 --ephemeral"
  "fanout-1000x10|fanout --rooms 1000 --members 10 --senders 1000 --rate 10000 --duration 10"
  "fanout-1000x10-ephemeral|fanout --rooms 1000 --members 10 --rate 10000 --duration 10 --ephemeral"
  "send-max|send --sockets 400 --duration 10"
  "send-max-3nodes|send --sockets 400 --duration 10 --nodes 3"
  "send-10k|send --sockets 400 --rate 10000 --duration 10"
  "send-10k-3nodes|send --sockets 400 --rate 10000 --duration 10 --nodes 3"
  "idle-19k|idle --connections 19000 --hold 5"
  "idle-per-person|idle --users 2000 --connections 2000 --hold 5"
  "idle-one-room|idle --users 1000 --connections 1000 --rooms 1 --hold 5"
  "connect-5k|connect --connections 5000 --concurrency 200"
  "resume-10k|resume --events 10000 --rounds 3"
  "slow-1pct|slow --rooms 1 --members 1000 --senders 10 --rate 200 --duration 20 --stalled-share 0.01"
  "report-10k-50|report --messages 10000 --images 50"
)
for entry in "${matrix[@]}"; do
  label=${entry%%|*}
  args=${entry#*|}
  [[ $label =~ $filter ]] || continue
  for i in $(seq 1 "$runs"); do
    echo "== $label run $i: andon-bench $args --json" >&2
    # shellcheck disable=SC2086
    json=$("$bench" $args --json) && printf '%s\t%s\n' "$label" "$json" >> "$out"
  done
done
python3 "$(dirname "$0")/summarize.py" < "$out"
