-- Message search (GET /api/rooms/{id}/messages/search, GET /api/search/messages):
-- a substring match on the lower-cased content, like the room search of V3, so
-- that "過熱" is found inside "三號線馬達過熱停機". Queries of three characters or
-- more are answered from this trigram index; shorter ones (common in Chinese) have
-- no trigram to look up and are answered by walking one room's messages newest
-- first by (room_id, seq) until the page is full (see src/db/search.rs).
-- Deleted messages are never searched, so they are left out of the index.
CREATE INDEX messages_content_search ON messages
    USING gin (lower(content) gin_trgm_ops) WHERE deleted_at IS NULL;
