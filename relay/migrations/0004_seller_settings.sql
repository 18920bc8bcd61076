-- A seller's notification settings, as append-only events: the latest of a kind holds.
CREATE TABLE seller_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    address_key TEXT NOT NULL,      -- lower-cased seller address
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('notify', 'notify_address')),
    value       TEXT NOT NULL       -- 'on' | 'off', or an address ('' = the default)
);
CREATE INDEX seller_events_key ON seller_events (address_key, kind, seq);

CREATE TRIGGER seller_events_no_update BEFORE UPDATE ON seller_events
BEGIN SELECT RAISE(ABORT, 'seller events are append-only'); END;
CREATE TRIGGER seller_events_no_delete BEFORE DELETE ON seller_events
BEGIN SELECT RAISE(ABORT, 'seller events are append-only'); END;
