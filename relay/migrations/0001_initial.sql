-- Conversations, their parties and aliases; the append-only message record,
-- its events, and the (mutable) delivery outbox.

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL,
    buyer_key   TEXT NOT NULL,      -- lower-cased buyer address: identity of the conversation
    seller_key  TEXT NOT NULL,      -- lower-cased first seller address
    created_at  TEXT NOT NULL,
    closed_at   TEXT
);
CREATE UNIQUE INDEX conversations_identity ON conversations (order_id, buyer_key, seller_key);

-- Aliases are never reused: rows are never updated or deleted.
CREATE TABLE aliases (
    local_part      TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    role            TEXT NOT NULL CHECK (role IN ('buyer', 'seller')),
    created_at      TEXT NOT NULL,
    UNIQUE (conversation_id, role)
);

CREATE TABLE parties (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    role            TEXT NOT NULL CHECK (role IN ('buyer', 'seller')),
    address         TEXT NOT NULL,  -- as registered (normalized by email-validator)
    address_key     TEXT NOT NULL,  -- lower-cased, for matching
    position        INTEGER NOT NULL,  -- 0 is the address that receives mail
    PRIMARY KEY (conversation_id, role, address_key)
);

-- The permanent record: one row per message that reached DATA, whatever became of it.
CREATE TABLE messages (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    conversation_id     TEXT NOT NULL REFERENCES conversations (id),
    received_at         TEXT NOT NULL,
    direction           TEXT NOT NULL CHECK (direction IN ('buyer_to_seller', 'seller_to_buyer', 'system')),
    disposition         TEXT NOT NULL CHECK (disposition IN ('delivered', 'delivered_redacted', 'rejected', 'deferred')),
    reasons             TEXT NOT NULL,  -- JSON list of reason codes
    peer                TEXT NOT NULL,
    helo                TEXT NOT NULL,
    mail_from           TEXT NOT NULL,
    rcpt_to             TEXT NOT NULL,  -- JSON list, as received
    recipient           TEXT,           -- real address it goes to, when accepted
    original_message_id TEXT,           -- Message-ID the author's client gave it
    relay_message_id    TEXT,           -- Message-ID the reader sees
    raw                 BLOB NOT NULL,
    delivered           BLOB,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, seq);
CREATE INDEX messages_relay_mid ON messages (relay_message_id);
CREATE INDEX messages_original_mid ON messages (original_message_id);

CREATE TABLE message_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL REFERENCES messages (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,  -- queued, deferred, delivered, failed, bounced
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX message_events_message ON message_events (message_id, seq);

-- Work queue: rows leave it when delivery ends; the history stays in message_events.
CREATE TABLE outbox (
    message_id      TEXT PRIMARY KEY REFERENCES messages (id),
    mail_from       TEXT NOT NULL,
    rcpt            TEXT NOT NULL,
    smtputf8        INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    expires_at      REAL NOT NULL,
    bounce          INTEGER NOT NULL DEFAULT 1  -- 0 for DSNs: never bounce a bounce
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'messages are append-only'); END;
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
BEGIN SELECT RAISE(ABORT, 'messages are append-only'); END;
CREATE TRIGGER message_events_no_update BEFORE UPDATE ON message_events
BEGIN SELECT RAISE(ABORT, 'message events are append-only'); END;
CREATE TRIGGER message_events_no_delete BEFORE DELETE ON message_events
BEGIN SELECT RAISE(ABORT, 'message events are append-only'); END;
CREATE TRIGGER aliases_no_update BEFORE UPDATE ON aliases
BEGIN SELECT RAISE(ABORT, 'aliases are never reused'); END;
CREATE TRIGGER aliases_no_delete BEFORE DELETE ON aliases
BEGIN SELECT RAISE(ABORT, 'aliases are never reused'); END;
CREATE TRIGGER parties_no_delete BEFORE DELETE ON parties
BEGIN SELECT RAISE(ABORT, 'parties are never removed'); END;
CREATE TRIGGER conversations_no_delete BEFORE DELETE ON conversations
BEGIN SELECT RAISE(ABORT, 'conversations are never removed'); END;
