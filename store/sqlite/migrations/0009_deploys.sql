-- Deploys and rollbacks (package deploys): the deploys that outside systems
-- reported (webhooks), the rollbacks proposed in incidents, and the services
-- frozen by hand. Times are milliseconds since the Unix epoch (UTC), 0 for
-- "not yet"; booleans are 0 or 1.

-- source and external_id identify a deploy at the system that made it.
CREATE TABLE deploys (
    id           INTEGER PRIMARY KEY,
    service      TEXT    NOT NULL,
    environment  TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    ref          TEXT    NOT NULL DEFAULT '',
    sha          TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    creator      TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    url          TEXT    NOT NULL DEFAULT '',
    started_at   BIGINT  NOT NULL DEFAULT 0,
    finished_at  BIGINT  NOT NULL DEFAULT 0,
    rollback     INTEGER NOT NULL DEFAULT 0,
    updated_at   BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (source, external_id)
);

-- A service's recent deploys, newest first.
CREATE INDEX deploys_service_started ON deploys (service, started_at);

-- key is deploys.RollbackKey(id), what Rollbacker.Start and the deploy
-- tools' callbacks name; propose_key makes proposing idempotent. from_deploy
-- and to_deploy are JSON snapshots of the deploys as they were proposed;
-- handle is the JSON of deploys.Handle.
CREATE TABLE rollbacks (
    id            INTEGER PRIMARY KEY,
    key           TEXT    NOT NULL DEFAULT '',
    propose_key   TEXT    NOT NULL DEFAULT '',
    incident_id   BIGINT  NOT NULL REFERENCES incidents (id),
    service       TEXT    NOT NULL,
    mechanism     TEXT    NOT NULL,
    from_deploy   TEXT    NOT NULL DEFAULT '{}',
    to_deploy     TEXT    NOT NULL DEFAULT '{}',
    state         TEXT    NOT NULL,
    handle        TEXT    NOT NULL DEFAULT '{}',
    message       TEXT    NOT NULL DEFAULT '',
    url           TEXT    NOT NULL DEFAULT '',
    proposed_by   TEXT    NOT NULL DEFAULT '',
    confirmed_by  TEXT    NOT NULL DEFAULT '',
    proposed_at   BIGINT  NOT NULL DEFAULT 0,
    confirmed_at  BIGINT  NOT NULL DEFAULT 0,
    started_at    BIGINT  NOT NULL DEFAULT 0,
    finished_at   BIGINT  NOT NULL DEFAULT 0,
    updated_at    BIGINT  NOT NULL DEFAULT 0,
    version       BIGINT  NOT NULL DEFAULT 1
);

CREATE UNIQUE INDEX rollbacks_key ON rollbacks (key) WHERE key <> '';
CREATE UNIQUE INDEX rollbacks_propose_key ON rollbacks (propose_key) WHERE propose_key <> '';
CREATE INDEX rollbacks_incident ON rollbacks (incident_id, id);

-- At most one manual freeze per service; lifting it deletes the row.
CREATE TABLE deploy_freezes (
    service    TEXT   PRIMARY KEY,
    frozen_by  TEXT   NOT NULL DEFAULT '',
    reason     TEXT   NOT NULL DEFAULT '',
    frozen_at  BIGINT NOT NULL
);
