-- The deploys a service's providers (GitHub) listed when an incident was
-- declared, as they were then: the postmortem draft shows what was live at
-- detection from them without calling GitHub, and a later status (a deploy
-- marked inactive once replaced) does not change them. deploys is the JSON
-- array of deploys.Deploy; the first snapshot of an incident and service is
-- kept.
CREATE TABLE deploy_snapshots (
    incident_id  BIGINT  NOT NULL REFERENCES incidents (id),
    service      TEXT    NOT NULL,
    read_at      BIGINT  NOT NULL,
    deploys      TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (incident_id, service)
);
