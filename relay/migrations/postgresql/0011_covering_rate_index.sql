-- The per-conversation count at every RCPT reads only the index: direction joins it, so
-- no message row (nor its blobs' pages) is read to count.
DROP INDEX messages_conversation_time;
CREATE INDEX messages_conversation_time ON messages (conversation_id, received_at, direction);
