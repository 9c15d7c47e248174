-- Postmortems published as pull requests, and their action items.
--
-- postmortems has one row per incident whose draft went to GitHub. The
-- branch and path are fixed by the first publish, so that a renamed
-- incident keeps its branch and file. last_sha is the git blob sha of the
-- file as Warroom last wrote it: a file on the branch with another sha was
-- edited by people and is not overwritten. pending_shas (space-separated)
-- are drafts being written whose answers may have been lost.
-- pr_state is refreshed hourly from GitHub (postmortem.sync) while open.
CREATE TABLE postmortems (
	incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),
	repo        TEXT    NOT NULL,
	branch      TEXT    NOT NULL,
	path        TEXT    NOT NULL,
	pr_number   INTEGER NOT NULL DEFAULT 0,
	pr_url      TEXT    NOT NULL DEFAULT '',
	pr_state    TEXT    NOT NULL DEFAULT 'open',
	last_sha    TEXT    NOT NULL DEFAULT '',
	pending_shas TEXT   NOT NULL DEFAULT '',
	edited      INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

-- action_items are the task-list entries of an incident's postmortem, with
-- the issue each became (action_items_as_issues). key is stable for the
-- same text, so that publishing again finds the item and its issue.
CREATE TABLE action_items (
	incident_id  INTEGER NOT NULL REFERENCES incidents (id),
	key          TEXT    NOT NULL,
	text         TEXT    NOT NULL,
	done         INTEGER NOT NULL DEFAULT 0,
	issue_repo   TEXT    NOT NULL DEFAULT '',
	issue_number INTEGER NOT NULL DEFAULT 0,
	issue_url    TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (incident_id, key)
);

-- The hourly sync reads the open ones only.
CREATE INDEX postmortems_open ON postmortems (incident_id) WHERE pr_state = 'open';
CREATE INDEX action_items_open_issues ON action_items (incident_id) WHERE done = 0 AND issue_number > 0;
