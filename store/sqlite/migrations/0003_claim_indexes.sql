-- A claim looks at the due jobs without a serial key, at the oldest
-- unfinished job of each serial key, and at the jobs it must park, and never
-- at the jobs waiting behind a serial key: a Slack channel with a long backlog
-- must not slow down every claim.
--
-- jobs_due gains serial_key, so that the pending jobs without one are read in
-- run time order without stepping over the serial backlog. jobs_exhausted
-- holds only the unfinished jobs that have used all their attempts, which a
-- claim parks when they are due; it is nearly always empty.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (state, serial_key, run_at);
CREATE INDEX jobs_exhausted ON jobs (state, kind)
    WHERE attempts >= max_attempts AND state IN ('pending', 'running');
