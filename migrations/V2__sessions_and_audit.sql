-- Login sessions. The client's token is never stored, only its SHA-256. The AD
-- password and AD access token are AES-256-GCM ciphertexts (nonce || ciphertext ||
-- tag) under the key named by key_id, bound to the session id as associated data.
CREATE TABLE sessions (
    id                UUID PRIMARY KEY,
    token_hash        BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ad_username       TEXT NOT NULL,
    key_id            TEXT NOT NULL,
    password_enc      BYTEA NOT NULL,
    ad_token_enc      BYTEA NOT NULL,
    ad_expires_at     TIMESTAMPTZ NOT NULL,
    refresh_failures  INTEGER NOT NULL DEFAULT 0 CHECK (refresh_failures >= 0),
    last_activity_at  TIMESTAMPTZ NOT NULL,
    last_refreshed_at TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    client_addr       TEXT
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- What is left of an ended session: enough to tell its next request *why* it is
-- over (401 session_revoked vs session_expired), nothing that could be used.
CREATE TABLE ended_sessions (
    token_hash BYTEA PRIMARY KEY,
    reason     TEXT NOT NULL CHECK (reason IN ('logout', 'expired', 'forced')),
    ended_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ended_sessions_ended_at ON ended_sessions (ended_at);

-- Every time a system administrator does what their room role would not allow.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    room_id  UUID,
    target   TEXT,
    details  JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_room ON audit_log (room_id, at);
