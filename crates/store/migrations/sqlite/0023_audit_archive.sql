-- Archiving (`sekisho audit archive`): the chained records up to `archived_id` have been written
-- to an archive file and removed from the table; `archived_hash` is the chain hash of record
-- `archived_id`, which the first remaining record links to, so the remaining trail verifies
-- from there. Only those records may ever be deleted; everything else stays append-only.
ALTER TABLE audit_head ADD COLUMN archived_id INTEGER;
ALTER TABLE audit_head ADD COLUMN archived_hash TEXT;

DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM audit_head
    WHERE id = 1 AND OLD.id >= chain_start AND OLD.id <= archived_id
)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
