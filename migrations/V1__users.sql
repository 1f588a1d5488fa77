-- Users are identified by their AD e-mail, compared case-insensitively: the
-- application stores it lower-cased, the check keeps it that way.
CREATE TABLE users (
    id              TEXT PRIMARY KEY CHECK (id = lower(id) AND id LIKE '%@%'),
    display_name    TEXT NOT NULL DEFAULT '',
    office_location TEXT,
    job_title       TEXT,
    first_login_at  TIMESTAMPTZ,
    last_login_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
