-- Uploaded files. The bytes live in object storage under `storage_key`; the type
-- was sniffed from the bytes, never taken from the client.
CREATE TABLE files (
    id            UUID PRIMARY KEY,
    room_id       UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader      TEXT NOT NULL,
    original_name TEXT NOT NULL CHECK (char_length(original_name) BETWEEN 1 AND 200),
    kind          TEXT NOT NULL CHECK (kind IN ('image', 'document', 'log')),
    mime_type     TEXT NOT NULL,
    size          BIGINT NOT NULL CHECK (size > 0),
    sha256        TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key   TEXT NOT NULL,
    thumbnail_key TEXT,
    message_id    UUID REFERENCES messages (id) ON DELETE SET NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at    TIMESTAMPTZ,
    deleted_by    TEXT
);
CREATE INDEX files_room ON files (room_id, uploaded_at DESC);
CREATE UNIQUE INDEX files_message ON files (message_id);
