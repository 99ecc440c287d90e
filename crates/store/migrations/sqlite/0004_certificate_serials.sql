-- The serial number of each key's certificate (lower-case hex, as in revocations), so that
-- OCSP can tell a certificate it issued from one it never did. Rows written before this
-- column existed are filled in from their certificates when the service starts.
ALTER TABLE account_keys ADD COLUMN serial TEXT;
CREATE UNIQUE INDEX account_keys_by_serial ON account_keys (serial);

-- The latest CRL of each CA, shared by every process on this database: its number only ever
-- grows, and a new one is signed when a revocation was added or half its validity has passed.
CREATE TABLE crls (
    ca           TEXT PRIMARY KEY,            -- root | issuing
    number       INTEGER NOT NULL,            -- cRLNumber
    revocations  INTEGER NOT NULL,            -- how many revocations it lists
    this_update  TEXT NOT NULL,
    next_update  TEXT NOT NULL,
    der          BLOB NOT NULL
);
