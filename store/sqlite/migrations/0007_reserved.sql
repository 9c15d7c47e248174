-- Reserved for another branch of issue 5/6 (on-call schedules); this placeholder keeps the
-- migration numbers without gaps on the paging-esc branch. Drop it when merging:
-- the real 0007 migration replaces it.
SELECT 1;
