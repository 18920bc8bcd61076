-- A registered address is part of who may write: it is never rewritten in place.
CREATE TRIGGER parties_no_update BEFORE UPDATE ON parties
BEGIN SELECT RAISE(ABORT, 'parties are append-only'); END;

-- A conversation's identity never changes; it can be closed once, never reopened.
CREATE TRIGGER conversations_identity_fixed BEFORE UPDATE OF id, order_id, buyer_key, seller_key, created_at ON conversations
BEGIN SELECT RAISE(ABORT, 'conversations are append-only'); END;
CREATE TRIGGER conversations_close_once BEFORE UPDATE OF closed_at ON conversations
WHEN OLD.closed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'conversations are append-only: closed once, for good'); END;
