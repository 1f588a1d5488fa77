-- One node refreshes a session at a time (several nodes on one database): the
-- node that claimed the refresh and until when its claim holds. A claim is taken
-- when free, expired or already the node's own, and renewed at every attempt,
-- so the strikes of one rejection series are counted by one node.
ALTER TABLE sessions
    ADD COLUMN refresh_node uuid,
    ADD COLUMN refresh_lease_until timestamptz;
