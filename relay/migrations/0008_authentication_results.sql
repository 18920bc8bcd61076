-- SPF/DKIM/DMARC outcome of a message from another server, as an Authentication-Results
-- value (RFC 8601). Kept here only: the delivered mail never carries it.
CREATE TABLE authentication_results (
    message_id  TEXT PRIMARY KEY REFERENCES messages (id),
    value       TEXT NOT NULL
);

CREATE TRIGGER authentication_results_no_update BEFORE UPDATE ON authentication_results
BEGIN SELECT RAISE(ABORT, 'authentication results are append-only'); END;
CREATE TRIGGER authentication_results_no_delete BEFORE DELETE ON authentication_results
BEGIN SELECT RAISE(ABORT, 'authentication results are append-only'); END;
