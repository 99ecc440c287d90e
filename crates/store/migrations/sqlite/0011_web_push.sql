-- Issue 15: Web Push to the installable app.

-- The service's VAPID key (RFC 8292): one, made by the first node to start; its PKCS#8 is
-- sealed under the key-encryption key.
CREATE TABLE vapid_keys (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    public_key     TEXT NOT NULL,            -- base64url uncompressed P-256 point
    secret_sealed  BLOB NOT NULL,
    created_at     TEXT NOT NULL
);

-- Each account is one device, and each device's browser one push subscription: where to tell
-- it that a transaction waits. Forgotten when the push service says it is gone (404/410) and
-- when the account closes.
CREATE TABLE push_subscriptions (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id),
    endpoint       TEXT NOT NULL,
    p256dh         TEXT NOT NULL,            -- base64url
    auth           TEXT NOT NULL,            -- base64url
    updated_at     TEXT NOT NULL
);
