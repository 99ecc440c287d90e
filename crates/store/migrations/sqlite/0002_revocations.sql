-- Revoked certificates: recorded in the same transaction that closes their account, so a
-- closed account never has a certificate that is still good. CRL and OCSP are built from here.
CREATE TABLE revocations (
    serial       TEXT PRIMARY KEY,            -- certificate serial number, lower-case hex
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    purpose      TEXT NOT NULL,               -- authentication | signing
    reason       TEXT NOT NULL,               -- RFC 5280 CRLReason name, e.g. keyCompromise
    revoked_at   TEXT NOT NULL
);
