-- A placeholder for migration 0011, which another branch brings. This
-- branch (wip/deploys-ui) was given 0012, and migrations must have no gaps:
-- delete this file when merging, in favour of the real 0011.
SELECT 1;
