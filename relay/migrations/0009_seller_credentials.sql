-- Submission-port passwords of seller accounts (scrypt hashes), as append-only events:
-- the latest row of an address holds; an empty hash disables the account's password.
CREATE TABLE seller_credentials (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    address_key TEXT NOT NULL,      -- lower-cased seller address
    at          TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX seller_credentials_key ON seller_credentials (address_key, seq);

CREATE TRIGGER seller_credentials_no_update BEFORE UPDATE ON seller_credentials
BEGIN SELECT RAISE(ABORT, 'seller credentials are append-only'); END;
CREATE TRIGGER seller_credentials_no_delete BEFORE DELETE ON seller_credentials
BEGIN SELECT RAISE(ABORT, 'seller credentials are append-only'); END;
