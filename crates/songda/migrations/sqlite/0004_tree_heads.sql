-- Signed tree heads of the evidence log and the public keys that signed them. A key
-- stays here after rotation, so old heads still verify.
CREATE TABLE log_keys (
    key_id      TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE tree_heads (
    size        BIGINT NOT NULL,
    root        TEXT NOT NULL,
    timestamp   TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    key_id      TEXT NOT NULL REFERENCES log_keys(key_id),
    signature   TEXT NOT NULL,
    PRIMARY KEY (size, key_id)
);
