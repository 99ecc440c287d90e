-- Issue 14: the device protocol seals its secrets end to end, survives lost answers and
-- refuses replays.

-- The server's channel keys (HPKE + Ed25519), one per generation; the newest is current, the
-- older ones open what was sealed to them until they retire. The secret is sealed under the
-- key-encryption key; the rotation is the previous key's signature over this one (JSON).
CREATE TABLE channel_keys (
    generation     BIGINT PRIMARY KEY,
    key_id         TEXT NOT NULL UNIQUE,
    public_key     TEXT NOT NULL,            -- JSON: the app API's ServerKey
    secret_sealed  BYTEA NOT NULL,
    rotation       TEXT,                     -- JSON: KeyRotation from the previous generation
    created_at     TEXT NOT NULL,
    retires_at     TEXT                      -- NULL while current (or never retired)
);

-- Nonces of authenticated app requests, remembered for the whole timestamp window, so that a
-- replayed request is refused on every node and after a restart.
CREATE TABLE app_nonces (
    account_id     TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    expires_unix   BIGINT NOT NULL,          -- seconds since the epoch; forgotten after it
    PRIMARY KEY (account_id, nonce)
);

-- Each device modulus serves one registration: a replayed registration request (whose sealed
-- server share the server would open again) is refused.
CREATE TABLE used_device_moduli (
    digest         BYTEA PRIMARY KEY,         -- SHA-256 of n1
    used_at        TEXT NOT NULL
);
