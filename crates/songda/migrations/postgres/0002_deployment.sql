-- Facts about the deployment that every process must agree on, such as the fingerprint
-- of the server key (a process started with a different key refuses to run).
CREATE TABLE deployment (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
