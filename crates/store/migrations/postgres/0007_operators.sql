-- Tamper-evident audit trail: every record carries the SHA-256 of its canonical encoding and of
-- the record before it (sekisho_core::audit::chain_hash). `audit_head` is the single row that
-- every writer takes (row lock on PostgreSQL, the one writer on SQLite) in the transaction that
-- appends records, so two instances can never fork the chain. Records written before this
-- migration are not chained: the chain starts at `chain_start`, and `sekisho audit verify`
-- reports how many records precede it.
ALTER TABLE audit_events ADD COLUMN chain_version BIGINT;
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    chain_start BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, chain_start, last_id, last_hash)
SELECT 1, COALESCE(MAX(id), 0) + 1, COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000'
FROM audit_events;
