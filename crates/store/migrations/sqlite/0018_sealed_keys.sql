-- Keys Sekisho keeps in the database, sealed with the master key like every other secret (and
-- re-sealed by a master-key rotation). `code-hash`: the MAC key of short-code hashes, derived
-- from the master key in use when it was first needed, then kept: its hashes (recovery codes,
-- setup links, pairwise subjects) outlive any master key.
CREATE TABLE sealed_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
