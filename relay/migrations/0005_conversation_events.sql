-- Facts about an order that arrive later, as append-only events: when it was delivered
-- (the review-request window counts from it). The latest event of a kind holds.
CREATE TABLE conversation_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('delivered')),
    value           TEXT NOT NULL   -- ISO date
);
CREATE INDEX conversation_events_conv ON conversation_events (conversation_id, kind, seq);

CREATE TRIGGER conversation_events_no_update BEFORE UPDATE ON conversation_events
BEGIN SELECT RAISE(ABORT, 'conversation events are append-only'); END;
CREATE TRIGGER conversation_events_no_delete BEFORE DELETE ON conversation_events
BEGIN SELECT RAISE(ABORT, 'conversation events are append-only'); END;
