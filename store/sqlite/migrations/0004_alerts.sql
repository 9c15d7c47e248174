-- Alerts from monitoring (incidents.AlertStore): the webhook bodies they came
-- in, kept for audit until pruned; each alert's latest content by source and
-- fingerprint; the groups that turn alerts into one incident at a time; and
-- the status changes waiting to be applied to a group's incident. Times are
-- milliseconds since the Unix epoch (UTC), 0 for "none"; booleans are 0 or 1.
--
-- Lists of IDs and fingerprints are passed as one JSON array and read with
-- json_each, so that each query has one text for any length of list; a
-- PostgreSQL store would use json_array_elements_text or an array parameter.

CREATE TABLE alert_bodies (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,
    alerts       INTEGER NOT NULL DEFAULT 0,
    raw          BLOB
);

-- Bodies are pruned by age.
CREATE INDEX alert_bodies_received_at ON alert_bodies (received_at);

-- key is incidents.Routed.Group.
CREATE TABLE alert_groups (
    id             INTEGER PRIMARY KEY,
    key            TEXT    NOT NULL UNIQUE,
    title          TEXT    NOT NULL DEFAULT '',
    service        TEXT    NOT NULL DEFAULT '',
    incident_id    BIGINT  NOT NULL DEFAULT 0,
    episode        INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 0,
    episode_start  BIGINT  NOT NULL DEFAULT 0,
    pending        INTEGER NOT NULL DEFAULT 0,
    gen            BIGINT  NOT NULL DEFAULT 0,
    first_seen     BIGINT  NOT NULL DEFAULT 0,
    updated_at     BIGINT  NOT NULL DEFAULT 0
);

-- name is incidents.Alert.Name(), counted per incident and group; sev_rank
-- is incidents.Severity.Rank() (1 is the worst, 0 unknown), so the worst
-- severity is a min(). group_key is the sender's group key; group_id is the
-- group the policy routed the alert to. Labels and annotations are JSON
-- objects, links a JSON array.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,
    group_id       BIGINT  NOT NULL DEFAULT 0,
    incident_id    BIGINT  NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL,
    name           TEXT    NOT NULL DEFAULT '',
    severity       TEXT    NOT NULL DEFAULT '',
    sev_rank       INTEGER NOT NULL DEFAULT 0,
    declare        INTEGER NOT NULL DEFAULT 0,
    service        TEXT    NOT NULL DEFAULT '',
    group_key      TEXT    NOT NULL DEFAULT '',
    title          TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    labels         TEXT    NOT NULL DEFAULT '{}',
    annotations    TEXT    NOT NULL DEFAULT '{}',
    links          TEXT    NOT NULL DEFAULT '[]',
    generator_url  TEXT    NOT NULL DEFAULT '',
    runbook_url    TEXT    NOT NULL DEFAULT '',
    starts_at      BIGINT  NOT NULL DEFAULT 0,
    ends_at        BIGINT  NOT NULL DEFAULT 0,
    first_seen     BIGINT  NOT NULL DEFAULT 0,
    last_seen      BIGINT  NOT NULL DEFAULT 0,
    changed_at     BIGINT  NOT NULL DEFAULT 0,
    received       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source, fingerprint)
);

-- A group's firing alerts (GroupFiring, AttachAlerts), and its alerts that
-- changed since a time (GroupAlertCounts).
CREATE INDEX alerts_group_status ON alerts (group_id, status);
CREATE INDEX alerts_group_changed ON alerts (group_id, changed_at);
-- An incident's alerts. Most alerts never declare one; the partial index
-- leaves them out, and queries repeat "incident_id <> 0" so SQLite uses it.
CREATE INDEX alerts_incident ON alerts (incident_id, status) WHERE incident_id <> 0;

-- body_id names the body the change came in; the body may have been pruned
-- since, so it is no foreign key. done is 1 once the change was applied to
-- the group's incident.
CREATE TABLE alert_changes (
    id        INTEGER PRIMARY KEY,
    alert_id  BIGINT  NOT NULL REFERENCES alerts (id),
    group_id  BIGINT  NOT NULL,
    body_id   BIGINT  NOT NULL DEFAULT 0,
    at        BIGINT  NOT NULL,
    status    TEXT    NOT NULL,
    first     INTEGER NOT NULL DEFAULT 0,
    done      INTEGER NOT NULL DEFAULT 0
);

-- A group's pending changes, in order; applied ones leave the index, so a
-- long history does not slow the search. Queries repeat "done = 0".
CREATE INDEX alert_changes_pending ON alert_changes (group_id, id) WHERE done = 0;
CREATE INDEX alert_changes_alert ON alert_changes (alert_id, id);
