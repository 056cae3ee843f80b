-- OpenID Connect sessions, logout and consent (issue 15, items 7 and 8).
--
-- Which clients each Sekisho session signed in to: written with the authorization code, read
-- when the session ends (to queue back-channel logouts) and at RP-initiated logout (the ID
-- token's `sid` names the session). `backchannel`: the client had a back-channel logout URI at
-- sign-in, so the session's end is queued for it.
CREATE TABLE oidc_session_clients (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    backchannel INTEGER NOT NULL DEFAULT 0,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX oidc_session_clients_sid ON oidc_session_clients(sid);
-- The back-channel logout outbox: one row per (ended session, client), written in the same
-- transaction that ends the session and delivered by a background sender on any instance, like
-- the mail outbox (`next_attempt_at` doubles as the claim). The login is named by key and ID
-- without a foreign key: a deleted login's clients are still told.
CREATE TABLE oidc_logout_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    login_pk INTEGER NOT NULL,
    login_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    failed_at INTEGER
);
CREATE INDEX oidc_logout_outbox_due ON oidc_logout_outbox(state, next_attempt_at);
-- The consents customers gave to clients that are not first party: remembered per login and
-- client with the scope granted; deleting the row revokes it.
CREATE TABLE oidc_consents (
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (login_pk, client_id)
);
