-- OpenID Connect clients registered by operators (issue 15). `metadata` is the validated RFC 7591
-- client metadata document as JSON text; the columns beside it are what is queried or shown in
-- lists. A client secret is kept only as its SHA-256 (it is 256 random bits), never in clear.
CREATE TABLE oidc_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    client_name TEXT NOT NULL,
    profile TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    first_party INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL,
    secret_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
