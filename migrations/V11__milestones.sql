-- Incident milestones (issue 19): detected is the room's creation, resolved its
-- status change; acknowledged (someone took it on) and contained (the line is safe,
-- the cause may still be open) are set once, by the first who declares them, and
-- kept when the room reopens. Each is also an event in the room's log.
ALTER TABLE rooms
    ADD COLUMN acknowledged_at TIMESTAMPTZ,
    ADD COLUMN acknowledged_by TEXT,
    ADD COLUMN contained_at    TIMESTAMPTZ,
    ADD COLUMN contained_by    TEXT,
    ADD CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
    ADD CHECK ((contained_at IS NULL) = (contained_by IS NULL)),
    -- Containing an unacknowledged room acknowledges it too.
    ADD CHECK (contained_at IS NULL OR acknowledged_at IS NOT NULL);

-- The figures (`GET /api/stats`) select rooms by their creation time.
CREATE INDEX rooms_created ON rooms (created_at);
