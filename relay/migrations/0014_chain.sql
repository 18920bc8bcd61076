-- The keyed hash chain over every append-only table (relay/store/chain.py): one entry per
-- row, in the same transaction as the row, linked by an HMAC under a key kept outside the
-- database (store.chain_key). seq is given by the relay (the HMAC covers it).
CREATE TABLE chain (
    seq      INTEGER PRIMARY KEY,
    tbl      TEXT NOT NULL,     -- the table the row is in
    row_key  TEXT NOT NULL,     -- the row's key columns, as a JSON array
    digest   TEXT NOT NULL,     -- SHA-256 of the row's columns (canonical JSON)
    prev_mac TEXT NOT NULL,     -- the previous entry's mac (64 zeros for the first)
    mac      TEXT NOT NULL,     -- HMAC-SHA256(key, seq, tbl, row_key, digest, prev_mac)
    UNIQUE (tbl, row_key)
);
CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END;
CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END;

-- Closing a conversation, as an append-only row the chain covers (conversations.closed_at
-- stays, set in the same transaction, for queries; the relay reads this one).
CREATE TABLE conversation_closings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    at              TEXT NOT NULL
);
INSERT INTO conversation_closings (conversation_id, at)
    SELECT id, closed_at FROM conversations WHERE closed_at IS NOT NULL ORDER BY rowid;
CREATE TRIGGER conversation_closings_no_update BEFORE UPDATE ON conversation_closings
BEGIN SELECT RAISE(ABORT, 'conversations are closed once, for good'); END;
CREATE TRIGGER conversation_closings_no_delete BEFORE DELETE ON conversation_closings
BEGIN SELECT RAISE(ABORT, 'conversations are closed once, for good'); END;

-- Rows made before the chain: the relay chains them, once, at its next start (and writes
-- a checkpoint at once, which anchors them), then empties this table.
CREATE TABLE chain_adoption (pending INTEGER NOT NULL);
INSERT INTO chain_adoption VALUES (1);
