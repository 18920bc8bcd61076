-- The size and SHA-256 of the whole message as received (a refused one is kept in part).
ALTER TABLE messages ADD COLUMN size BIGINT;
ALTER TABLE messages ADD COLUMN sha256 TEXT;
