-- The throttle (issue 16 item 2): one row per limited key (a client address, a login ID, an
-- operator name), shared by every instance. `tat_ms` is the bucket's theoretical arrival time
-- (GCRA, milliseconds since the epoch): a request is allowed while tat_ms - now stays within
-- the burst's tolerance, and moves it one interval on. `hold_until_ms` is the growing delay
-- after consecutive password failures, `failures` their count (for unknown login IDs too, so
-- the wait tells no one which IDs exist). `allowed` is the last check's answer (so the one
-- upsert that checks can return it). A row whose bucket is full again and whose last hold
-- ended a day ago is purged.
CREATE TABLE throttle (
    bucket TEXT PRIMARY KEY,
    tat_ms INTEGER NOT NULL,
    hold_until_ms INTEGER NOT NULL DEFAULT 0,
    allowed INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX throttle_tat ON throttle(tat_ms);
