-- Rate limits count a sender's recent messages at every RCPT.
CREATE INDEX messages_sender ON messages (lower(mail_from), received_at);
