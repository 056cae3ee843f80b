-- Tamper-evident audit trail: every record carries the SHA-256 of its canonical encoding and of
-- the record before it (sekisho_core::audit::chain_hash). `audit_head` is the single row that
-- every writer takes (row lock on PostgreSQL, the one writer on SQLite) in the transaction that
-- appends records, so two instances can never fork the chain. Records written before this
-- migration are not chained: the chain starts at `chain_start`, and `sekisho audit verify`
-- reports how many records precede it.
ALTER TABLE audit_events ADD COLUMN chain_version BIGINT;
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    chain_start BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, chain_start, last_id, last_hash)
SELECT 1, COALESCE(MAX(id), 0) + 1, COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000'
FROM audit_events;

-- Operators: the firm's staff (support desk and administrators), with their own password
-- (Argon2id), authenticator app (secret sealed with the master key), failure counters, lock and
-- sessions. The one-time setup link is kept only as a keyed hash until it is used.
CREATE TABLE operators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    totp_secret_enc TEXT,
    totp_pending_enc TEXT,
    totp_last_step BIGINT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    failed_codes BIGINT NOT NULL DEFAULT 0,
    locked_at BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0,
    setup_hash TEXT UNIQUE,
    setup_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE operator_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    operator_pk BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX operator_sessions_operator ON operator_sessions(operator_pk);
