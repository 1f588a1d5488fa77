-- Message metadata is kept as the server wrote it (`json`), not rebuilt by
-- PostgreSQL (`jsonb`). `jsonb` stores numbers as `numeric` and writes them back
-- in full decimal notation: 1.7976931348623155e308 came back as 309 digits and a
-- tiny float as hundreds of zeros, which the JSON reader refused, so every read of
-- that room's history failed. Nothing queries into metadata; the events' copy is
-- `json` already (V6).
ALTER TABLE messages ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE messages ALTER COLUMN metadata TYPE json USING metadata::json;
ALTER TABLE messages ALTER COLUMN metadata SET DEFAULT '{}';
