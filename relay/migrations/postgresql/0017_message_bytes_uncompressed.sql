-- A message's bytes (as received, as delivered) are kept out of line, uncompressed, as
-- SQLite keeps them: mail is mostly attachments in base64 (already-compressed files), which
-- pglz tried to compress and could not, for about 30 ms of the server's CPU per 1 MB
-- message. Reading a message's headers (substr(raw, 1, n)) then reads only their chunks.
-- Rows stored before stay as they are.
ALTER TABLE messages ALTER COLUMN raw SET STORAGE EXTERNAL,
                     ALTER COLUMN delivered SET STORAGE EXTERNAL;
