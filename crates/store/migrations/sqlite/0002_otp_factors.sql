-- Shared-secret factors (TOTP apps now; hardware/software tokens later), their replay and drift
-- state, and their failure counters: all changed atomically in the database.
CREATE TABLE otp_factors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    state TEXT NOT NULL,
    label TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digits INTEGER NOT NULL,
    period INTEGER NOT NULL,
    last_step INTEGER,
    drift INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_at INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    confirmed_at INTEGER,
    last_used_at INTEGER
);
CREATE UNIQUE INDEX otp_factors_one_totp ON otp_factors(login_pk, method) WHERE method = 'totp';

-- A login between the password and the second factor; any instance can finish it, once.
CREATE TABLE login_challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    methods TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    completed_at INTEGER
);
