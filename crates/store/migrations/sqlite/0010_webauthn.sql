-- Passkeys (WebAuthn, issue 8). A passkey row keeps the credential as webauthn-rs serialises it
-- (credential ID and public key, no secret), its name, use times, the signature counter and the
-- backup flags the authenticator reported, and whether the counter was ever seen going backwards
-- (a possible clone: the passkey is then refused until removed).
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    user_handle TEXT NOT NULL,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state INTEGER NOT NULL DEFAULT 0,
    counter_regressed_at INTEGER,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE UNIQUE INDEX passkeys_by_credential ON passkeys(credential_id);
CREATE INDEX passkeys_by_login ON passkeys(login_pk);

-- A registration or authentication ceremony between its begin and finish: any instance may
-- finish it. Found by the keyed hash of its ID only; used once (used_at set atomically) and
-- refused after expires_at. bound_to ties a second-factor ceremony to its login challenge.
CREATE TABLE webauthn_ceremonies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    login_pk INTEGER REFERENCES logins(id) ON DELETE CASCADE,
    bound_to TEXT,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE UNIQUE INDEX webauthn_ceremonies_by_hash ON webauthn_ceremonies(id_hash);
CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies(expires_at);
