-- The send path appends to `messages` and `room_events` at tens of thousands of rows
-- a second, and resume reads `room_events` back in order. Measured with
-- `andon-bench send` and `andon-bench resume` (docs/BENCHMARKS.md):

-- 1. A foreign key costs one trigger query per inserted row (about a sixth of
--    PostgreSQL's time on the send path), so the hot tables' `room_id` columns no
--    longer reference `rooms`. Rows are only ever added under the room's row lock,
--    after reading the room, and a room is only deleted by `db::rooms::delete`,
--    which removes both tables' rows in the same transaction.
ALTER TABLE messages DROP CONSTRAINT messages_room_id_fkey;
ALTER TABLE room_events DROP CONSTRAINT room_events_room_id_fkey;

-- 2. An event's data is written once and read back whole, in order; nothing
--    queries into it but the rare soft delete. `json` keeps the text as written:
--    reading 10,000 events back takes PostgreSQL about a quarter of the time it
--    takes with `jsonb`, which is rebuilt into text on every read.
ALTER TABLE room_events ALTER COLUMN data TYPE json USING data::json;
