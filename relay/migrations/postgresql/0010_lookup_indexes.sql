-- A seller's conversations (API, message center, response time) without scanning parties;
-- a conversation's messages of the last hour (rate limit at every RCPT) without reading
-- all of them.
CREATE INDEX parties_address ON parties (address_key, role);
CREATE INDEX messages_conversation_time ON messages (conversation_id, received_at);
