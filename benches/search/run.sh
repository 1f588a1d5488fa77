#!/usr/bin/env bash
# Times the exact queries src/db/search.rs issues (room search, search across
# rooms as a member and as an admin) on 20 rooms x 10,000 messages: the median of
# five EXPLAIN ANALYZE execution times each, in the database, without HTTP.
# Usage: ANDON_BIN=target/debug/andon benches/search/run.sh
set -euo pipefail
ADMIN_URL="${ANDON_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB=andon_searchbench_$$
psql -qw "$ADMIN_URL" -c "CREATE DATABASE $DB"
trap 'psql -qw "$ADMIN_URL" -c "DROP DATABASE $DB WITH (FORCE)"' EXIT
URL="${ADMIN_URL%/*}/$DB"
ANDON_DATABASE_URL="$URL" ANDON_SECRET_KEY="$(head -c32 /dev/urandom | base64)" "${ANDON_BIN:?set ANDON_BIN to a built andon binary}" migrate >/dev/null 2>&1
psql -qw "$URL" -f "$(dirname "$0")/seed.sql"
COLS="m.room_id, m.id, m.seq, m.sender, m.sender_name, m.message_type, m.content, m.created_at, m.edited_at"
R1=00000000-0000-0000-0000-000000000001
t() { # label sql: median of 5 Execution Times
  local label=$1 sql=$2 times=()
  for _ in 1 2 3 4 5; do
    times+=("$(psql -qtAw $URL -c "EXPLAIN (ANALYZE, FORMAT JSON) $sql" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')")
  done
  printf '%s\t%s ms\n' "$label" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
}
room() { echo "SELECT $COLS FROM messages m WHERE m.room_id = '$R1' AND m.deleted_at IS NULL AND $1 AND m.seq < 9223372036854775807 ORDER BY m.seq DESC LIMIT 21"; }
glob() { echo "SELECT $COLS, r.title FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.deleted_at IS NULL AND $1 AND $2 AND (m.created_at, m.id) < ('9999-01-01'::timestamptz, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid) ORDER BY m.created_at DESC, m.id DESC LIMIT 21"; }
MEMBER="EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = m.room_id AND rm.user_id = 'lin@andon.test')"
t "room, 2 chars 過熱 (strpos)" "$(room "strpos(lower(m.content), lower('過熱')) > 0")"
t "room, 2 chars no hit 'zz' (strpos, walks the room)" "$(room "strpos(lower(m.content), lower('zz')) > 0")"
t "room, 4 chars 馬達過熱 (LIKE, trigram)" "$(room "lower(m.content) LIKE lower('%馬達過熱%')")"
t "room, rare 'station 9999' (LIKE)" "$(room "lower(m.content) LIKE lower('%station 9999%')")"
t "room, no hit 'zzzz' (LIKE)" "$(room "lower(m.content) LIKE lower('%zzzz%')")"
t "global member, 馬達過熱 (LIKE)" "$(glob "lower(m.content) LIKE lower('%馬達過熱%')" "$MEMBER")"
t "global member, rare 'station 9999'" "$(glob "lower(m.content) LIKE lower('%station 9999%')" "$MEMBER")"
t "global member, 2 chars 過熱 (strpos)" "$(glob "strpos(lower(m.content), lower('過熱')) > 0" "$MEMBER")"
t "global admin, 2 chars 'zz' no hit (strpos)" "$(glob "strpos(lower(m.content), lower('zz')) > 0" "'x' IS NOT NULL")"
t "global admin, no hit 'zzzz' (LIKE)" "$(glob "lower(m.content) LIKE lower('%zzzz%')" "'x' IS NOT NULL")"
