-- Reserved for another branch of issue 5/6 (deploys); this placeholder keeps the
-- migration numbers without gaps on the paging-esc branch. Drop it when merging:
-- the real 0006 migration replaces it.
SELECT 1;
