-- The audit log: security events, who did what and when. Append-only: the triggers refuse
-- every UPDATE and DELETE, so not even the service can rewrite history. No secrets here.
CREATE TABLE audit_log (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,             -- RFC 3339, UTC
    event            TEXT NOT NULL,             -- e.g. registration, login, wrong_pin, account_closed
    actor            TEXT NOT NULL,             -- person:<id>, rp:<uuid>, device, system, operator:<name>
    account_id       TEXT,
    document_number  TEXT,
    rp_uuid          TEXT,
    session_id       TEXT,
    details          TEXT NOT NULL DEFAULT '{}' -- JSON object
);
CREATE INDEX audit_log_by_document ON audit_log (document_number, seq);
CREATE INDEX audit_log_by_event ON audit_log (event, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Billing reads usage by month.
CREATE INDEX usage_by_month ON usage (completed_at);
