-- Sign-ins to the web message center (relay/web): a work table like login_failures, not
-- the record (not chained). Only the SHA-256 of a session's token is kept.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('seller', 'admin')),
    account     TEXT NOT NULL,
    credential  TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
