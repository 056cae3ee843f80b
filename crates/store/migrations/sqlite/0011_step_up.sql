-- Step-up confirmation of one important operation (issue 8). A request is found by the hash of
-- its ID (the ID is handed to the requesting app and appears in the confirmation page's URL);
-- it is answered once (pending → confirmed or refused, in one conditional UPDATE) and its signed
-- proof, sealed by the server, is handed out once and then removed.
CREATE TABLE step_up_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_hash TEXT NOT NULL UNIQUE,
    login_pk INTEGER NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    login_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    amount TEXT,
    currency TEXT,
    api_token_id INTEGER NOT NULL,
    audience TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    method TEXT,
    answered_at INTEGER,
    proof_sealed TEXT,
    proof_taken_at INTEGER
);
CREATE INDEX step_up_requests_login ON step_up_requests(login_pk);
-- Keys that sign step-up proofs (JWS). The private key is sealed with the master key; the public
-- key is kept as its JWK (RFC 7517) and published until the key is retired. The newest key that
-- is not retired signs.
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kid TEXT NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
