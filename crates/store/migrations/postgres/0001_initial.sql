-- SplitID schema for PostgreSQL: the same tables, columns and meanings as the SQLite
-- migrations up to their 0006, in one step (this backend has no older databases to carry).
-- Times are RFC 3339 text in UTC, as on SQLite, so both backends run the same queries;
-- binary values are BYTEA, counters BIGINT. Later changes get a migration here and one in
-- ../sqlite, with the same number.

CREATE TABLE relying_parties (
    uuid            TEXT PRIMARY KEY,          -- canonical lower-case UUID
    names           TEXT NOT NULL,             -- JSON array of allowed relyingPartyName values
    allowed_levels  TEXT NOT NULL,             -- JSON array: ADVANCED, QUALIFIED, QSCD
    ip_ranges       TEXT NOT NULL DEFAULT '[]',-- JSON array of CIDR ranges; empty = any source
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
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
    mac_key_sealed   BYTEA NOT NULL,
    ratchet_token    BYTEA NOT NULL,           -- SHA-256 of the current token
    previous_token   BYTEA,                    -- SHA-256 of the one before (retransmissions)
    last_request     BYTEA,                    -- SHA-256 of the last state-changing request
    last_response    BYTEA,                    -- its response, replayed on retransmission
    -- The interactions this account's app can run (JSON array of RP API names).
    interactions     TEXT NOT NULL
        DEFAULT '["displayTextAndPIN","verificationCodeChoice","confirmationMessage","confirmationMessageAndVerificationCodeChoice"]',
    -- What proved the identity (JSON; never secrets).
    proofing_evidence TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX accounts_by_person ON accounts (semantics_id);

CREATE TABLE account_keys (
    account_id               TEXT NOT NULL REFERENCES accounts (id),
    purpose                  TEXT NOT NULL,    -- authentication | signing
    half_bits                BIGINT NOT NULL,
    device_modulus           BYTEA NOT NULL,   -- n1
    server_exponent_sealed   BYTEA NOT NULL,   -- d1ˢ, sealed by the key store
    server_key_sealed        BYTEA NOT NULL,   -- (n2, d2) PKCS#1 DER, sealed by the key store
    certificate              BYTEA NOT NULL,   -- DER, issued for n = n1·n2
    wrong_pins               BIGINT NOT NULL DEFAULT 0,
    locked_until             TEXT,
    serial                   TEXT,             -- certificate serial, lower-case hex
    PRIMARY KEY (account_id, purpose)
);
CREATE UNIQUE INDEX account_keys_by_serial ON account_keys (serial);

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
-- Every node looks for overdue sessions each second.
CREATE INDEX sessions_running ON sessions (deadline) WHERE state = 'running';

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
CREATE INDEX usage_by_month ON usage (completed_at);

-- Revoked certificates, recorded in the transaction that closes their account.
CREATE TABLE revocations (
    serial       TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    purpose      TEXT NOT NULL,
    reason       TEXT NOT NULL,               -- RFC 5280 CRLReason name
    revoked_at   TEXT NOT NULL
);

-- The latest CRL of each CA, shared by every node: its number only ever grows.
CREATE TABLE crls (
    ca           TEXT PRIMARY KEY,            -- root | issuing
    number       BIGINT NOT NULL,
    revocations  BIGINT NOT NULL,
    this_update  TEXT NOT NULL,
    next_update  TEXT NOT NULL,
    der          BYTEA NOT NULL
);

-- Identity proofing challenges (single-use).
CREATE TABLE proofing_challenges (
    id            TEXT PRIMARY KEY,
    challenge     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    vouched_by    TEXT REFERENCES accounts (id),
    vouch_session TEXT,
    used_at       TEXT
);

-- The audit log. Append-only: the triggers refuse every UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               TEXT NOT NULL,
    event            TEXT NOT NULL,
    actor            TEXT NOT NULL,
    account_id       TEXT,
    document_number  TEXT,
    rp_uuid          TEXT,
    session_id       TEXT,
    details          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_document ON audit_log (document_number, seq);
CREATE INDEX audit_log_by_event ON audit_log (event, seq);

CREATE FUNCTION audit_log_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_rewrite();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_rewrite();
