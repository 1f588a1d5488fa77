-- Unread counts from counters. The room list used to count, for every room on the
-- page, the messages after the user's read marker: one user in a hundred large
-- rooms could make every list call read millions of index entries, on the same
-- pool the other users' requests wait for. Now a count is arithmetic on four
-- numbers kept as messages are stored and markers move:
--
--   unread = (rooms.message_count - read_count) - (sent_count - read_sent_count)
--
-- that is, the messages after the marker less the member's own among them.
ALTER TABLE rooms ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE room_members
    -- The member's own messages in the room.
    ADD COLUMN sent_count BIGINT NOT NULL DEFAULT 0,
    -- Messages (anyone's) with seq <= last_read_seq.
    ADD COLUMN read_count BIGINT NOT NULL DEFAULT 0,
    -- The member's own messages with seq <= last_read_seq.
    ADD COLUMN read_sent_count BIGINT NOT NULL DEFAULT 0;

UPDATE rooms r SET message_count = (SELECT count(*) FROM messages m WHERE m.room_id = r.id);
UPDATE room_members rm SET
    sent_count = (SELECT count(*) FROM messages m
                  WHERE m.room_id = rm.room_id AND m.sender = rm.user_id),
    read_count = (SELECT count(*) FROM messages m
                  WHERE m.room_id = rm.room_id AND m.seq <= rm.last_read_seq),
    read_sent_count = (SELECT count(*) FROM messages m
                       WHERE m.room_id = rm.room_id AND m.sender = rm.user_id
                         AND m.seq <= rm.last_read_seq);

-- Each send batch bumps its senders' `sent_count`: room for the new row version on
-- the same page keeps that a HOT update (no new index entries).
ALTER TABLE room_members SET (fillfactor = 70);
