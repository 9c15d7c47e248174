-- Placeholder: migration 0007 belongs to another branch (paging). DROP THIS FILE when merging.
SELECT 1;
