-- The firm's history of a day: its first and last IDs are read from this index alone (an
-- index-only scan), then the page by the primary key between them.
CREATE INDEX audit_events_time_id ON audit_events(time, id);
DROP INDEX audit_events_time;
-- One operator's actions (`operator=` in the console and `GET /api/admin/v1/audit`), newest
-- first: a partial index, small beside the customers' own records.
CREATE INDEX audit_events_operator ON audit_events(actor_id, id) WHERE actor_kind = 'operator';
