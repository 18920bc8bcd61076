-- Who holds a job's claim (PostgreSQL, several relays on one database): a relay whose claim
-- committed but whose answer was lost (the server restarted mid-statement) finds its jobs by
-- this mark at its next claim, instead of leaving them until the lease ends. Cleared when a
-- claim is given back (a retry time set). SQLite (one relay per store) keeps it empty.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
