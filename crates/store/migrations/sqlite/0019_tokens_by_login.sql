-- A login's tokens in token-ID order (the token check at login and at /api/v1/validate reads
-- them for every code): without it, SQLite's planner walks `tokens_state` in token-ID order
-- through every assigned token (34 ms a code with 100,000 of them).
CREATE INDEX tokens_login_state ON tokens(login_pk, state, token_id);
