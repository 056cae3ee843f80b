-- Sessions by their absolute end: the background worker deletes, a batch a minute, those that
-- ended more than `session.retain_days` ago (`purge_sessions`); without it each batch would
-- read the whole table.
CREATE INDEX sessions_expires ON sessions(expires_at);
