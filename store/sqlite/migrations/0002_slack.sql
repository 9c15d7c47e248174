-- The Slack adapter's bookkeeping (package bot's Store): which Events API
-- deliveries were handled, since Slack retries them, and what Warroom made in
-- Slack, so that a retried job never posts twice and later jobs find what
-- earlier ones posted. Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE slack_events (
    event_id     TEXT   PRIMARY KEY,
    received_at  BIGINT NOT NULL
);

-- Old event IDs are pruned by age.
CREATE INDEX slack_events_received_at ON slack_events (received_at);

-- key names a post ("summary:INC-7", "channel:INC-7", a job's key);
-- incident_id is 0 for posts about no single incident. state is "sending"
-- before the Web API call and "sent" once Slack answered.
CREATE TABLE slack_posts (
    key          TEXT   PRIMARY KEY,
    incident_id  BIGINT NOT NULL DEFAULT 0,
    channel_id   TEXT   NOT NULL DEFAULT '',
    ts           TEXT   NOT NULL DEFAULT '',
    state        TEXT   NOT NULL,
    version      BIGINT NOT NULL DEFAULT 0,
    text         TEXT   NOT NULL DEFAULT '',
    updated_at   BIGINT NOT NULL
);

-- Every reaction, pin and join in Slack asks which incident a channel
-- belongs to; most incidents have a channel, older ones may not.
CREATE INDEX incidents_slack_channel ON incidents (slack_channel_id) WHERE slack_channel_id <> '';
