-- What a buyer chose (opt-out, language) or is (a business account), and when:
-- append-only, so the record shows what held when any message was sent. The latest event
-- of a kind is the current setting.
CREATE TABLE buyer_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    address_key TEXT NOT NULL,      -- lower-cased buyer address (conversations.buyer_key)
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('optout', 'locale', 'business')),
    value       TEXT NOT NULL       -- 'on' | 'off' (optout, business), or a locale ('de-DE')
);
CREATE INDEX buyer_events_key ON buyer_events (address_key, kind, seq);

CREATE TRIGGER buyer_events_no_update BEFORE UPDATE ON buyer_events
BEGIN SELECT RAISE(ABORT, 'buyer events are append-only'); END;
CREATE TRIGGER buyer_events_no_delete BEFORE DELETE ON buyer_events
BEGIN SELECT RAISE(ABORT, 'buyer events are append-only'); END;
