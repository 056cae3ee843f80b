-- OpenID Connect token grants and refresh tokens (issue 15, items 5 and 6).
--
-- A grant is what one code exchange gave a client: the login, the scope, what the login proved
-- (auth_time, acr, amr), the Sekisho session (`sid`) and the DPoP key (`dpop_jkt`, RFC 7638
-- thumbprint) the tokens are bound to. Access tokens (JWTs) name their grant, so revoking the
-- grant ends them at introspection and UserInfo as well as every refresh token of it. A second
-- use of the authorization code (found by `code_hash`) revokes the grant the first use made.
CREATE TABLE oidc_token_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    session_id INTEGER,
    scope TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    dpop_jkt TEXT,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
);
CREATE INDEX oidc_token_grants_code ON oidc_token_grants(code_hash);
CREATE INDEX oidc_token_grants_session ON oidc_token_grants(session_id);
CREATE INDEX oidc_token_grants_login ON oidc_token_grants(login_pk, client_id);
CREATE INDEX oidc_token_grants_expires ON oidc_token_grants(expires_at);
-- A refresh token, kept only as its hash. `used_at` is set when a public client's token is
-- rotated: presenting it again is a reuse, which revokes the whole grant.
CREATE TABLE oidc_refresh_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    grant_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens(grant_id);
CREATE INDEX oidc_refresh_tokens_expires ON oidc_refresh_tokens(expires_at);
-- The DPoP key an authorization code is bound to (`dpop_jkt` at PAR or authorization).
ALTER TABLE oidc_codes ADD COLUMN dpop_jkt TEXT;
