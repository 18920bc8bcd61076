-- A seller's marks on messages (read, no response needed), as append-only events.
CREATE TABLE message_marks (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL REFERENCES messages (id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('read', 'no_response_needed'))
);
CREATE INDEX message_marks_message ON message_marks (message_id, kind);

CREATE TRIGGER message_marks_no_update BEFORE UPDATE ON message_marks
BEGIN SELECT RAISE(ABORT, 'message marks are append-only'); END;
CREATE TRIGGER message_marks_no_delete BEFORE DELETE ON message_marks
BEGIN SELECT RAISE(ABORT, 'message marks are append-only'); END;
