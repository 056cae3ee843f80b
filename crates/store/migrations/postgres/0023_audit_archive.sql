-- Archiving (`sekisho audit archive`): the chained records up to `archived_id` have been written
-- to an archive file and removed from the table; `archived_hash` is the chain hash of record
-- `archived_id`, which the first remaining record links to, so the remaining trail verifies
-- from there. Only those records may ever be deleted; everything else stays append-only.
ALTER TABLE audit_head ADD COLUMN archived_id BIGINT;
ALTER TABLE audit_head ADD COLUMN archived_hash TEXT;

CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_head
        WHERE id = 1 AND OLD.id >= chain_start AND OLD.id <= archived_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
