#!/usr/bin/env bash
# Baseline for the `send` scenario: PostgreSQL's own multi-row insert rate on this
# machine, measured with pgbench on a fresh database with Andon's schema. Each
# transaction inserts 100 rows into `messages` (same indexes and constraints as the
# server's batches: primary key, unique (room, seq), unique (room, sender, client_id)).
#
# Usage: benches/harness/pgbench-baseline.sh [clients] [seconds]
# Needs: pgbench (postgresql-client), psql, and target/release/andon (for migrations;
# set ANDON_BIN to point elsewhere). Prints pgbench's summary and the rows/s.
set -euo pipefail
clients=${1:-4}
secs=${2:-10}
admin=${ANDON_BENCH_ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
base=${admin%/*}
db=andon_pgbench_$$
andon=${ANDON_BIN:-${CARGO_TARGET_DIR:-target}/release/andon}
script=$(mktemp)
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -f "$script"' EXIT

psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
ANDON_DATABASE_URL="$base/$db" ANDON_LOG=warn "$andon" migrate
room=$(uuidgen 2>/dev/null || python3 -c 'import uuid; print(uuid.uuid4())')
psql -q "$base/$db" <<SQL >/dev/null
INSERT INTO users (id, display_name) VALUES ('sender@bench.example', 'Sender');
INSERT INTO rooms (id, title, incident_type, severity, created_by)
VALUES ('$room', 'pgbench', 'other', 'low', 'sender@bench.example');
CREATE SEQUENCE bench_seq;
SQL
cat > "$script" <<SQL
INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type, content,
                      metadata, client_id, created_at)
SELECT gen_random_uuid(), '$room', s, 'sender@bench.example', 'Sender', 'text',
       'Line 2 stopped: material shortage at station 7', '{}', 'p' || s, now()
FROM (SELECT nextval('bench_seq') AS s FROM generate_series(1, 100)) AS g;
SQL
out=$(pgbench -n -c "$clients" -j 2 -T "$secs" -f "$script" "$base/$db" 2>&1)
echo "$out" | grep -E "number of transactions actually processed|latency average|tps ="
tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
python3 -c "print(f'rows/s = {float(\"$tps\") * 100:.0f} (100 rows per transaction, $clients clients)')"
