-- Placeholder: migration 0006 belongs to another branch (paging). DROP THIS FILE when merging.
SELECT 1;
