-- Identity proofing: server-issued, single-use challenges that every proofing method except
-- demo binds its evidence to, and the evidence each account was registered with.
CREATE TABLE proofing_challenges (
    id           TEXT PRIMARY KEY,             -- UUID
    challenge    TEXT NOT NULL,                -- base64 of 32 random bytes
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    vouched_by   TEXT REFERENCES accounts (id),-- the account whose PIN1 login proved it (method account)
    vouch_session TEXT,                        -- the login session asked of that account's device
    used_at      TEXT                          -- set when a registration consumed it
);

-- What proved the identity (JSON; never secrets): the eID certificate's issuer, serial and
-- subject, the ID token's iss/sub/jti, or the vouching account's document number.
ALTER TABLE accounts ADD COLUMN proofing_evidence TEXT NOT NULL DEFAULT '{}';
