-- OpenID Connect grants (issue 15, item 3 and the token endpoint).
--
-- An authorization request, pushed (PAR, RFC 9126: found by the hash of its `request_uri`) or
-- made at the authorization endpoint and waiting for the customer's login (found by the hash of
-- a random handle). Each is used once: one conditional UPDATE sets `used_at`.
CREATE TABLE oidc_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handle_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX oidc_requests_expires ON oidc_requests(expires_at);
-- An authorization code, kept only as its hash: bound to the client, the redirect URI, the PKCE
-- challenge and the nonce, and carrying what the login proved (auth_time, acr, amr). Used once.
CREATE TABLE oidc_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    session_id INTEGER,
    auth_time INTEGER NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX oidc_codes_expires ON oidc_codes(expires_at);
-- The `jti`s of client assertions (private_key_jwt, RFC 7523) seen until their `exp`: a second
-- assertion with the same `jti` from the same client is a replay.
CREATE TABLE oidc_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oidc_jtis_expires ON oidc_jtis(expires_at);
