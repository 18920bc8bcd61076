-- SPF/DKIM/DMARC outcome of a message from another server (RFC 8601 value).
CREATE TABLE authentication_results (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    message_id  TEXT PRIMARY KEY REFERENCES messages (id),
    value       TEXT NOT NULL
);
CREATE TRIGGER authentication_results_no_change BEFORE UPDATE OR DELETE ON authentication_results
    FOR EACH ROW EXECUTE FUNCTION refuse_change('authentication results are append-only');
CREATE TRIGGER authentication_results_no_truncate BEFORE TRUNCATE ON authentication_results
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('authentication results are append-only');
