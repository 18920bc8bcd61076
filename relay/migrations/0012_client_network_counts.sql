-- Only accepted messages count toward a conversation's and a sender's hourly limits. The
-- disposition comes before the time in these indexes, so the count at every RCPT reads the
-- accepted entries only, however many refused ones strangers left in the hour.
DROP INDEX messages_sender;
CREATE INDEX messages_sender ON messages (lower(mail_from), disposition, received_at);
CREATE INDEX messages_conversation_accepted
    ON messages (conversation_id, disposition, received_at, direction);

-- Refused messages, one row each, counted per client (an IPv4 /24, an IPv6 /64, or
-- "account <address>" for a submission login) for the hourly refusal limits. The bytes are
-- those received, which the record may not keep (a discarded or truncated body). Append-only:
-- rows are never changed; those older than the hour count for nothing.
CREATE TABLE refusals (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    client      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    message_id  TEXT  -- the record of the refused message
);
CREATE INDEX refusals_client_time ON refusals (client, at, bytes);

-- Failed submission logins, one row each, counted per client network and per (network,
-- account) in the throttle's window. Append-only like refusals.
CREATE TABLE login_failures (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    network     TEXT NOT NULL,
    account     TEXT NOT NULL  -- address_key of the login tried
);
CREATE INDEX login_failures_network_time ON login_failures (network, at, account);
