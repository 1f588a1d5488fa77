-- Trigram indexes make substring search ("輸送帶" inside "三號線輸送帶停止", or a
-- partial word) fast; the search itself is a plain ILIKE, correct in any script.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE rooms (
    id               UUID PRIMARY KEY,
    title            TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    incident_type    TEXT NOT NULL CHECK (incident_type IN
                         ('equipment_failure', 'material_shortage', 'quality_issue', 'other')),
    severity         TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status           TEXT NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'resolved', 'archived')),
    location         TEXT NOT NULL DEFAULT '',
    line             TEXT,
    equipment        TEXT,
    description      TEXT NOT NULL DEFAULT '',
    resolution_notes TEXT,
    lots             TEXT[] NOT NULL DEFAULT '{}',
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at      TIMESTAMPTZ,
    archived_at      TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    member_count     INTEGER NOT NULL DEFAULT 0,
    -- The room's event counter: bumped under this row's lock in the transaction
    -- that writes the event, so numbers are gap-free per room, also across nodes.
    head_seq         BIGINT NOT NULL DEFAULT 0,
    -- Lower-cased title, description, location, line, equipment and LOTs; kept by
    -- the trigger below.
    search_text      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rooms_last_activity ON rooms (last_activity_at DESC, id);
CREATE INDEX rooms_search ON rooms USING gin (search_text gin_trgm_ops);

CREATE FUNCTION rooms_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(concat_ws(' ', NEW.title, NEW.description, NEW.location,
                                       NEW.line, NEW.equipment,
                                       array_to_string(NEW.lots, ' ')));
    RETURN NEW;
END $$;
CREATE TRIGGER rooms_search_text BEFORE INSERT OR UPDATE ON rooms
    FOR EACH ROW EXECUTE FUNCTION rooms_search_text();

-- Members are e-mails, not references to users: people can be added before their
-- first login and see the room once they log in.
CREATE TABLE room_members (
    room_id       UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL CHECK (user_id = lower(user_id) AND user_id LIKE '%_@_%'),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_by      TEXT NOT NULL,
    added_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE UNIQUE INDEX room_members_one_owner ON room_members (room_id) WHERE role = 'owner';
CREATE INDEX room_members_user ON room_members (user_id);

-- The room event log: what sockets receive and what resume replays.
CREATE TABLE room_events (
    room_id UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL CHECK (seq > 0),
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    data    JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_id, seq)
);

CREATE TABLE templates (
    id                  UUID PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    incident_type       TEXT NOT NULL CHECK (incident_type IN
                            ('equipment_failure', 'material_shortage', 'quality_issue', 'other')),
    default_severity    TEXT NOT NULL CHECK (default_severity IN ('low', 'medium', 'high', 'critical')),
    default_description TEXT NOT NULL DEFAULT '',
    -- [{"user_id": "...", "role": "editor" | "viewer"}]
    default_members     JSONB NOT NULL DEFAULT '[]',
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
