-- Sign-ins to the web message center (relay/web): a work table like login_failures, not
-- the record (not chained). The cookie holds the session's token; only its SHA-256 is kept,
-- so a copy of the database signs nobody in. A row goes at sign-out; expired ones are
-- removed at the next sign-in.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,  -- SHA-256 (hex) of the cookie's token
    scope       TEXT NOT NULL CHECK (scope IN ('seller', 'admin')),
    account     TEXT NOT NULL,     -- the seller's registered address; '' for an operator
    credential  TEXT NOT NULL,     -- what it signed in with (a fingerprint): when it changes, the session ends
    csrf        TEXT NOT NULL,     -- the token every form of the session carries
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL,     -- last use (to the minute): the idle timeout counts from it
    expires_at  TEXT NOT NULL      -- created_at + web.session_lifetime
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
