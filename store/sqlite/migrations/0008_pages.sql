-- Pages (package paging): who is being woken up for an incident, and where
-- each page's escalation stands. next_at is the deadline of the page's next
-- step, stored so that escalation runs from the database and not from
-- timers in memory: a restart resumes every page where it left off. Times
-- are milliseconds since the Unix epoch (UTC), 0 for "none".
--
-- policy is the escalation policy ('' for a manual page of one person,
-- user or schedule); target is what was paged ("service:checkout",
-- "person:alice"); state is triggered, escalated, acknowledged or resolved;
-- round and step are the next step to run (step = the number of steps once
-- the last one ran).

CREATE TABLE pages (
    id           INTEGER PRIMARY KEY,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    policy       TEXT    NOT NULL DEFAULT '',
    target       TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    round        INTEGER NOT NULL DEFAULT 0,
    step         INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    acked_at     BIGINT  NOT NULL DEFAULT 0,
    acked_by     TEXT    NOT NULL DEFAULT '',
    resolved_at  BIGINT  NOT NULL DEFAULT 0,
    updated_at   BIGINT  NOT NULL
);

-- An incident's pages are read on every acknowledgement and resolution.
CREATE INDEX pages_incident ON pages (incident_id);

-- The pages still escalating, by deadline (Resume on start); a partial
-- index, as most pages are over.
CREATE INDEX pages_escalating ON pages (next_at) WHERE state IN ('triggered', 'escalated') AND next_at <> 0;
