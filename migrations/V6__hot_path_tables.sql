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

-- 3. Every batch looks up retries by (room_id, sender, client_id). Both text
--    columns are identifiers compared for equality only, so they compare bytes
--    (`COLLATE "C"`) instead of going through the locale's `strcoll`.
ALTER TABLE messages
    ALTER COLUMN sender TYPE TEXT COLLATE "C",
    ALTER COLUMN client_id TYPE TEXT COLLATE "C";

-- 4. Every send batch moves its rooms' `head_seq` and `last_activity_at`. With
--    `last_activity_at` indexed, each of those updates wrote a new entry into
--    every index of `rooms`, the trigram index's many entries included, and ran
--    the search-text trigger. Without that index (the room list counts and sorts
--    a user's rooms in full anyway), with room on each page for the new version
--    and with the trigger only on the columns it reads, the update is a HOT
--    update: one new row version on the same page and no index entry. The fill
--    factor applies to pages written from now on: a room on a page that is full
--    today moves once, with one last non-HOT update, to a page with room.
DROP INDEX rooms_last_activity;
ALTER TABLE rooms SET (fillfactor = 50);
DROP TRIGGER rooms_search_text ON rooms;
CREATE TRIGGER rooms_search_text
    BEFORE INSERT OR UPDATE OF title, description, location, line, equipment, lots ON rooms
    FOR EACH ROW EXECUTE FUNCTION rooms_search_text();
