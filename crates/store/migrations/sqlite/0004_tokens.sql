-- Hardware and software OTP tokens (token inventory): imported by operators from seed files,
-- bound to a login by token ID. The secret is sealed under the master key with associated data
-- naming the token; counters, drift, failures and locks change atomically here.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digits INTEGER NOT NULL,
    period INTEGER NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0,
    last_step INTEGER,
    drift INTEGER NOT NULL DEFAULT 0,
    secret_enc TEXT NOT NULL,
    state TEXT NOT NULL,
    login_pk INTEGER REFERENCES logins(id) ON DELETE SET NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_at INTEGER,
    imported_at INTEGER NOT NULL,
    batch TEXT NOT NULL,
    assigned_at INTEGER,
    registered_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
);
CREATE INDEX tokens_login ON tokens(login_pk);
CREATE INDEX tokens_state ON tokens(state, token_id);
