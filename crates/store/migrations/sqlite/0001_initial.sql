-- SplitID initial schema (SQLite). Times are RFC 3339 text in UTC; binary values are BLOBs.

CREATE TABLE relying_parties (
    uuid            TEXT PRIMARY KEY,          -- canonical lower-case UUID
    names           TEXT NOT NULL,             -- JSON array of allowed relyingPartyName values
    allowed_levels  TEXT NOT NULL,             -- JSON array: ADVANCED, QUALIFIED, QSCD
    ip_ranges       TEXT NOT NULL DEFAULT '[]',-- JSON array of CIDR ranges; empty = any source
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,         -- UUID, the app's handle
    document_number  TEXT NOT NULL UNIQUE,
    semantics_id     TEXT NOT NULL,            -- e.g. PNOEE-30303039914
    given_name       TEXT NOT NULL,
    surname          TEXT NOT NULL,
    country          TEXT NOT NULL,
    level            TEXT NOT NULL,            -- QUALIFIED or ADVANCED
    proofing_method  TEXT NOT NULL,
    state            TEXT NOT NULL,            -- active | closed
    closed_reason    TEXT,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    last_used_at     TEXT,
    -- App channel: a MAC key (sealed by the key store) and the ratchet against cloned apps.
    mac_key_sealed   BLOB NOT NULL,
    ratchet_token    BLOB NOT NULL,            -- SHA-256 of the current token
    previous_token   BLOB,                     -- SHA-256 of the one before (retransmissions)
    last_request     BLOB,                     -- SHA-256 of the last state-changing request
    last_response    BLOB                      -- its response, replayed on retransmission
);
CREATE INDEX accounts_by_person ON accounts (semantics_id);

CREATE TABLE account_keys (
    account_id               TEXT NOT NULL REFERENCES accounts (id),
    purpose                  TEXT NOT NULL,    -- authentication | signing
    half_bits                INTEGER NOT NULL,
    device_modulus           BLOB NOT NULL,    -- n1
    server_exponent_sealed   BLOB NOT NULL,    -- d1ˢ, sealed by the key store
    server_key_sealed        BLOB NOT NULL,    -- (n2, d2) PKCS#1 DER, sealed by the key store
    certificate              BLOB NOT NULL,    -- DER, issued for n = n1·n2
    wrong_pins               INTEGER NOT NULL DEFAULT 0,
    locked_until             TEXT,
    PRIMARY KEY (account_id, purpose)
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,          -- UUID, the sessionID
    rp_uuid         TEXT NOT NULL,
    kind            TEXT NOT NULL,             -- authentication | signature | certificate_choice
    request         TEXT NOT NULL,             -- JSON of the validated request
    fingerprint     TEXT NOT NULL,             -- for the 15-second idempotency rule
    state           TEXT NOT NULL,             -- running | complete
    result          TEXT,                      -- JSON of the session status when complete
    created_at      TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    completed_at    TEXT
);
CREATE INDEX sessions_by_fingerprint ON sessions (fingerprint, created_at);

-- Which accounts (devices) a session was sent to, and what each did.
CREATE TABLE session_targets (
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    state           TEXT NOT NULL,             -- pending | answered | withdrawn
    PRIMARY KEY (session_id, account_id)
);
CREATE INDEX session_targets_by_account ON session_targets (account_id, state);

-- Registrations waiting for the device's proof of possession.
CREATE TABLE registrations (
    id              TEXT PRIMARY KEY,
    request         TEXT NOT NULL,             -- JSON: identity, proofing evidence, key material (sealed)
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);

-- Transactions per relying party, counted once at completion (billing).
CREATE TABLE usage (
    session_id      TEXT PRIMARY KEY REFERENCES sessions (id),
    rp_uuid         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    end_result      TEXT NOT NULL,
    completed_at    TEXT NOT NULL
);
