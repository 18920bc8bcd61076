-- A refused message keeps its header section and the start of its body only; these say how
-- big the whole message was and what it was (SHA-256 of every byte), for every record from
-- now on. NULL: a record made before this migration, which kept every byte (raw is whole).
ALTER TABLE messages ADD COLUMN size INTEGER;
ALTER TABLE messages ADD COLUMN sha256 TEXT;
