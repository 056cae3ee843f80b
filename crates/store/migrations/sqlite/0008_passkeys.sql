-- Recovery codes (issue 8): ten single-use codes per login, kept only as keyed hashes. The set
-- row carries the failure counter and lock of wrong recovery codes (the second-factor lock).
CREATE TABLE recovery_code_sets (
    id INTEGER PRIMARY KEY REFERENCES logins(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_at INTEGER
);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE UNIQUE INDEX recovery_codes_by_hash ON recovery_codes(login_pk, code_hash);
