-- Issue 6: setup links for the hosted pages' setup wizard. A link is single-use and expires;
-- only a keyed hash of its token is kept. A new link for a login revokes its older unused ones.
CREATE TABLE setup_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    set_password INTEGER NOT NULL,
    set_second_factor INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX setup_links_login ON setup_links(login_pk);
