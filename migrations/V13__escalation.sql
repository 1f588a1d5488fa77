-- Escalation ladders (issue 19): per severity, ordered levels of
-- `{"after_secs": N, "notify": [e-mails]}`. An unacknowledged active room
-- climbs its severity's ladder; `rooms.escalation_level` is how many levels it
-- has reached, moved by a compare-and-set so that each level takes effect once
-- whichever node's timer fires first.
CREATE TABLE escalation_policies (
    severity   TEXT PRIMARY KEY CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    levels     JSONB NOT NULL DEFAULT '[]',
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE rooms ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
