-- One operator's actions (`operator=` in the console and `GET /api/admin/v1/audit`), newest
-- first: a partial index, small beside the customers' own records. (The firm's history of a
-- day needs nothing new here: `audit_events_time` holds the rowid, which is the ID, so the
-- day's first and last IDs are read from it alone.)
CREATE INDEX audit_events_operator ON audit_events(actor_id, id) WHERE actor_kind = 'operator';
