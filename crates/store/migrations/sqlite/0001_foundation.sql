CREATE TABLE logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    lang TEXT NOT NULL,
    second_factor TEXT NOT NULL,
    mfa_required INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_at INTEGER,
    password_hash TEXT,
    password_changed_at INTEGER,
    password_temporary INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE password_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    set_at INTEGER NOT NULL
);
CREATE INDEX password_history_login ON password_history(login_pk, id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    methods TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_login ON sessions(login_pk);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    login_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    event_group TEXT NOT NULL,
    event_type TEXT NOT NULL,
    description TEXT NOT NULL,
    error_code TEXT,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX audit_events_login ON audit_events(login_id, id);
CREATE INDEX audit_events_type ON audit_events(event_type, id);
CREATE INDEX audit_events_time ON audit_events(time);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
