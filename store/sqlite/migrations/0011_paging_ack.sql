-- Paging: the messages that carry a page's Acknowledge button, and cancelled
-- on-call overrides.
--
-- page_id is the page whose Acknowledge button a Slack post carries (its
-- direct message, its post in a channel, its mention in the incident's
-- channel), 0 for every other post: once the page is acknowledged or
-- resolved, those posts are edited to drop the button.
ALTER TABLE slack_posts ADD COLUMN page_id BIGINT NOT NULL DEFAULT 0;

CREATE INDEX slack_posts_page ON slack_posts (page_id) WHERE page_id <> 0;

-- A cancelled override is kept for the record but no longer puts anyone on
-- call. cancelled_at is milliseconds since the Unix epoch (UTC), 0 while it
-- stands; cancelled_by says who cancelled it (a Slack user ID, "cli").
ALTER TABLE oncall_overrides ADD COLUMN cancelled_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE oncall_overrides ADD COLUMN cancelled_by TEXT NOT NULL DEFAULT '';
