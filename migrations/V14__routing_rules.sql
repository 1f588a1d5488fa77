-- Routing rules (issue 19): a room created with, or changed to, fields a rule
-- matches (each field the rule sets must be equal; location and line without
-- regard to case) gets the rule's people as members.
CREATE TABLE routing_rules (
    id            UUID PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    incident_type TEXT CHECK (incident_type IN
                      ('equipment_failure', 'material_shortage', 'quality_issue', 'other')),
    severity      TEXT CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    location      TEXT,
    line          TEXT,
    -- [{"user_id": "...", "role": "editor" | "viewer"}]
    members       JSONB NOT NULL DEFAULT '[]',
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
