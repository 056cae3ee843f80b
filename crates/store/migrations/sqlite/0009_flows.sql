-- The hosted pages' state that must outlive one instance (several instances behind a load
-- balancer): the login in progress ("login flow") and the recent re-authentication of a session.
-- A flow is found by the hash of its cookie; its payload (challenge, restricted session token)
-- is sealed by the server, never kept in clear. A finished flow is kept, marked, until it
-- expires, so it cannot be replayed; expired rows are purged when new flows are made.
CREATE TABLE login_flows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX login_flows_expires ON login_flows(expires_at);
CREATE TABLE session_reauth (
    session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    fresh_until INTEGER NOT NULL
);
