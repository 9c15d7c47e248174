-- A deploy's attempt (package deploys): GitHub re-runs a workflow run under
-- the same run ID with a higher run_attempt. A report of an earlier attempt
-- is stale; a later attempt starts the deploy over. 0 for deploys whose
-- source has no attempts, and for deploys stored before this column.
ALTER TABLE deploys ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
