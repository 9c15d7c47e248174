-- Warroom's first schema: incidents, their roles and timelines, and the job queue.
-- Times are stored as integer milliseconds since the Unix epoch (UTC); 0 or NULL
-- means "not yet". Tables and columns are meant to carry over to a PostgreSQL
-- store, whose own DDL would use identity columns for the INTEGER PRIMARY KEYs
-- and BYTEA for the payload; the queries already use only SQL both accept.

CREATE TABLE incidents (
    id                  BIGINT  PRIMARY KEY,
    title               TEXT    NOT NULL,
    severity            TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    service             TEXT    NOT NULL DEFAULT '',
    description         TEXT    NOT NULL DEFAULT '',
    summary             TEXT    NOT NULL DEFAULT '',
    declared_by         TEXT    NOT NULL DEFAULT '',
    declare_key         TEXT    NOT NULL DEFAULT '',
    slack_channel_id    TEXT    NOT NULL DEFAULT '',
    slack_channel_name  TEXT    NOT NULL DEFAULT '',
    detected_at         BIGINT  NOT NULL DEFAULT 0,
    declared_at         BIGINT  NOT NULL DEFAULT 0,
    acknowledged_at     BIGINT  NOT NULL DEFAULT 0,
    mitigated_at        BIGINT  NOT NULL DEFAULT 0,
    resolved_at         BIGINT  NOT NULL DEFAULT 0,
    updated_at          BIGINT  NOT NULL DEFAULT 0,
    version             BIGINT  NOT NULL DEFAULT 1
);

CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_service ON incidents (service, id);
CREATE INDEX incidents_declared_at ON incidents (declared_at);
-- A declaration key makes declaring idempotent (a double-submitted form).
CREATE UNIQUE INDEX incidents_declare_key ON incidents (declare_key) WHERE declare_key <> '';

CREATE TABLE incident_roles (
    incident_id  BIGINT NOT NULL REFERENCES incidents (id),
    role         TEXT   NOT NULL,
    person       TEXT   NOT NULL,
    assigned_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, role)
);

CREATE TABLE timeline_events (
    id           INTEGER PRIMARY KEY,
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    at           BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    actor        TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL DEFAULT '',
    data         TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX timeline_events_incident ON timeline_events (incident_id, at, id);

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL UNIQUE,
    serial_key    TEXT    NOT NULL DEFAULT '',
    payload       BLOB,
    state         TEXT    NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_at        BIGINT  NOT NULL,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- Due jobs are found by state and time. Serial ordering looks for earlier
-- active jobs with the same serial key; the partial index keeps done jobs out
-- of that search, so a busy channel's history does not slow every claim.
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
CREATE INDEX jobs_serial_active ON jobs (serial_key, id)
    WHERE serial_key <> '' AND state IN ('pending', 'running');
