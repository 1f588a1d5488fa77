-- Messages. `seq` is the sequence number of the message's `message.created` event.
-- (room_id, sender, client_id) is what makes a retried send idempotent.
CREATE TABLE messages (
    id           UUID PRIMARY KEY,
    room_id      UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    sender       TEXT NOT NULL,
    sender_name  TEXT NOT NULL,
    message_type TEXT NOT NULL CHECK (message_type IN
                     ('text', 'image_ref', 'file_ref', 'system', 'incident_data')),
    content      TEXT NOT NULL CHECK (char_length(content) <= 10000),
    metadata     JSONB NOT NULL DEFAULT '{}',
    client_id    TEXT NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
    created_at   TIMESTAMPTZ NOT NULL,
    edited_at    TIMESTAMPTZ,
    deleted_at   TIMESTAMPTZ,
    deleted_by   TEXT,
    UNIQUE (room_id, sender, client_id),
    UNIQUE (room_id, seq)
);

-- Every earlier version of an edited message.
CREATE TABLE message_edits (
    message_id  UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    content     TEXT NOT NULL,
    replaced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, version)
);

CREATE TABLE reactions (
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    emoji      TEXT NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 10),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);

-- Single-use WebSocket tickets: only the hash is kept, valid for seconds.
CREATE TABLE ws_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX ws_tickets_expires ON ws_tickets (expires_at);
