-- The keyed hash chain over every append-only table (relay/store/chain.py). seq is given
-- by the relay (the HMAC covers it); appends are serialized by an advisory lock
-- (relay.store.dialect.lock_chain), so the chain stays linear with several relays.
CREATE TABLE chain (
    seq      BIGINT PRIMARY KEY,
    tbl      TEXT NOT NULL,
    row_key  TEXT NOT NULL,
    digest   TEXT NOT NULL,
    prev_mac TEXT NOT NULL,
    mac      TEXT NOT NULL,
    UNIQUE (tbl, row_key)
);
CREATE TRIGGER chain_no_change BEFORE UPDATE OR DELETE ON chain
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the chain is append-only');
CREATE TRIGGER chain_no_truncate BEFORE TRUNCATE ON chain
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the chain is append-only');

CREATE TABLE conversation_closings (
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    at              TEXT NOT NULL
);
INSERT INTO conversation_closings (conversation_id, at)
    SELECT id, closed_at FROM conversations WHERE closed_at IS NOT NULL ORDER BY rowid;
CREATE TRIGGER conversation_closings_no_change BEFORE UPDATE OR DELETE ON conversation_closings
    FOR EACH ROW EXECUTE FUNCTION refuse_change('conversations are closed once, for good');
CREATE TRIGGER conversation_closings_no_truncate BEFORE TRUNCATE ON conversation_closings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('conversations are closed once, for good');

CREATE TABLE chain_adoption (pending BIGINT NOT NULL);
INSERT INTO chain_adoption VALUES (1);
