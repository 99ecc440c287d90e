-- Issue 16: RP API v3 device links (QR codes, Web2App, App2App).

-- A device-link session waits for a phone to present its link; it is found by the SHA-256 of
-- its sessionToken (base64url), never by the token itself, which every QR code shows. The
-- phone that presents a valid link claims the session in the same statement that clears this
-- column, so a link opens one phone's transaction, once.
ALTER TABLE sessions ADD COLUMN link_token TEXT;
CREATE UNIQUE INDEX sessions_by_link_token ON sessions (link_token) WHERE link_token IS NOT NULL;
