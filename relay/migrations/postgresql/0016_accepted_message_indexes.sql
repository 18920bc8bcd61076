-- The two indexes SQLite's 0012 made for the hourly limits, missing from 0012 here: the
-- count at every RCPT of a sender's and a conversation's accepted messages in the hour reads
-- the accepted entries only, however many refused ones strangers left in it.
DROP INDEX messages_sender;
CREATE INDEX messages_sender ON messages (lower(mail_from), disposition, received_at);
CREATE INDEX messages_conversation_accepted
    ON messages (conversation_id, disposition, received_at, direction);
