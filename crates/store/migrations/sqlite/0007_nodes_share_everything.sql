-- What lets many nodes share one database and nothing else.

-- Facts about the service itself. `ca_root_sha256`: the fingerprint of the root CA
-- certificate the database was first used with, so that a node started on another CA (a
-- data directory that was not copied from the first node) refuses to start instead of
-- issuing certificates under a CA nobody trusts.
CREATE TABLE service_identity (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Browser sessions of the web pages (portal, Demo Bank), so that any node can serve any
-- request. Keyed by the SHA-256 of the cookie's value: the database never holds a usable
-- session id. Idle sessions are deleted after 15 minutes.
CREATE TABLE web_sessions (
    id_sha256   TEXT PRIMARY KEY,              -- hex
    site        TEXT NOT NULL,                 -- portal | demo_bank
    csrf        TEXT NOT NULL,
    state       TEXT NOT NULL,                 -- JSON of the site's page state
    last_seen   TEXT NOT NULL                  -- RFC 3339, UTC
);
CREATE INDEX web_sessions_by_last_seen ON web_sessions (last_seen);
