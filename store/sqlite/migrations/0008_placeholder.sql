-- Placeholder: migration 0008 belongs to another branch (paging). DROP THIS FILE when merging.
SELECT 1;
