-- The evidence log as a Merkle tree (RFC 6962). Each event's body is its canonical bytes
-- (RFC 8785) and leaf_hash is SHA-256(0x00 || body). log_nodes holds the hashes of the
-- perfect subtrees: (level k, idx i) covers leaves i*2^k .. (i+1)*2^k - 1 (leaf index =
-- seq - 1); level 0 repeats the leaf hashes. Rows are written with the event, in its
-- transaction, and never change. Events stored before this migration are sealed (body
-- rewritten in canonical form, hashes added) once, at start.
ALTER TABLE evidence ADD COLUMN leaf_hash TEXT;

CREATE TABLE log_nodes (
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
