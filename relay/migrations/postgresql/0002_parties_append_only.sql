-- On SQLite this migration added parties_no_update; the PostgreSQL 0001 has it already.
SELECT 1;
