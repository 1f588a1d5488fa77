-- Incident reports (issue 18). The .docx lives in object storage under the room's
-- prefix (`storage_key`); `content` is its sections as JSON, for the preview.
--
-- A report is owned, while it is unfinished, by the process that queued it: that
-- process renews `lease_until`; a report whose lease lapsed (its process died or
-- restarted) is marked failed by any node, so none stays pending forever.
CREATE TABLE reports (
    id           UUID PRIMARY KEY,
    room_id      UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL,
    language     TEXT NOT NULL CHECK (language IN ('zh-TW', 'en')),
    ai           BOOLEAN NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                     ('pending', 'collecting', 'writing', 'assembling', 'completed', 'failed')),
    reason       TEXT,
    content      JSONB,
    file_name    TEXT,
    storage_key  TEXT,
    size         BIGINT,
    sha256       TEXT,
    lease_until  TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    CHECK ((status = 'completed') = (storage_key IS NOT NULL AND content IS NOT NULL)),
    CHECK ((status = 'failed') = (reason IS NOT NULL))
);
CREATE INDEX reports_room ON reports (room_id, created_at DESC);
CREATE INDEX reports_unfinished ON reports (lease_until)
    WHERE status NOT IN ('completed', 'failed');
