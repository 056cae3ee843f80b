-- Issue 4: mail delivery, e-mail codes at login, code delivery addresses, familiar browsers,
-- login notifications.

-- Where login codes go (NULL: the registered address) and the per-login notification switch
-- (NULL: the firm's default).
ALTER TABLE logins ADD COLUMN code_email TEXT;
ALTER TABLE logins ADD COLUMN notify_login INTEGER;

-- The outbox: a mail is written in the same transaction as the change that causes it and sent
-- by a background task on any instance. The body (which may hold a code) is sealed with the
-- master key and emptied once sent. `next_attempt_at` doubles as the claim: a sender moves it
-- forward before it tries, so a crashed sender's mail becomes due again.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    login_id TEXT,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_enc TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    failed_at INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);

-- The e-mail code of a login challenge: only its keyed hash. `code_fail_limit` is the failure
-- count at which the current code stops working (the count itself runs across re-issues).
ALTER TABLE login_challenges ADD COLUMN code_hash TEXT;
ALTER TABLE login_challenges ADD COLUMN code_expires_at INTEGER;
ALTER TABLE login_challenges ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_challenges ADD COLUMN code_fail_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_challenges ADD COLUMN code_sends INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_challenges ADD COLUMN code_sent_at INTEGER;

-- A change of the code delivery address waiting for the code sent to the new address.
CREATE TABLE code_address_changes (
    login_pk INTEGER PRIMARY KEY REFERENCES logins(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Familiar browsers and apps allowed to skip the second factor for a while.
CREATE TABLE trusted_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX trusted_devices_login ON trusted_devices(login_pk);
