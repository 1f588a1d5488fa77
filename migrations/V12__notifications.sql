-- Notifications (issue 19): a durable inbox per user, delivered live to the
-- user's sockets after the change that made them commits, and read by REST by
-- anyone who was offline. `user_id` is the lower-case e-mail, as in
-- room_members. `actor` is who caused it (NULL for the system: a rule, a
-- ladder); `text` is short English, clients localise by `kind` from the fields.
CREATE TABLE notifications (
    id         UUID PRIMARY KEY,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('routed', 'escalated', 'mentioned', 'added')),
    room_id    UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT,
    actor      TEXT,
    actor_name TEXT,
    text       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at    TIMESTAMPTZ
);
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Per-user settings. `ring`: the kinds that ring (a browser notification and a
-- sound), `{"routed": true, …}`, a kind absent rings; `quiet_hours`:
-- `{"start": "22:00", "end": "06:00"}` in ANDON_TIMEZONE, or NULL.
CREATE TABLE user_settings (
    user_id     TEXT PRIMARY KEY,
    ring        JSONB NOT NULL DEFAULT '{}',
    quiet_hours JSONB,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
