-- On-call overrides recorded at run time (oncall.OverrideStore), such as
-- "/incident oncall override payments-primary @bob 2h". The overrides of the
-- configuration are not stored. Times are milliseconds since the Unix epoch
-- (UTC). Rows are kept for the record; an override that has ended no longer
-- matters to who is on call.
--
-- When overrides overlap, the later-created one wins: the one with the
-- higher id.
CREATE TABLE oncall_overrides (
    id          INTEGER PRIMARY KEY,
    schedule    TEXT    NOT NULL,
    person      TEXT    NOT NULL,
    starts_at   BIGINT  NOT NULL,
    ends_at     BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    CHECK (starts_at < ends_at)
);

-- Who is on call reads a schedule's overrides that end after a time.
CREATE INDEX oncall_overrides_schedule_ends_at ON oncall_overrides (schedule, ends_at);
