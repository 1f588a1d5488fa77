-- Pinned messages (issue 20): at most one pin per message, in the order of their
-- `message.pinned` events (`seq`). A deleted message loses its pin in the same
-- transaction as its deletion.
CREATE TABLE message_pins (
    message_id UUID PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    room_id    UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    pinned_by  TEXT NOT NULL,
    pinned_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX message_pins_room ON message_pins (room_id, seq);
