-- Issue 16: RP API v3's deviceIpAddress (and v2's) only for relying parties given the
-- privilege: the address of the phone that answered, when the request asked for it with
-- requestProperties.shareMdClientIpAddress.
ALTER TABLE relying_parties ADD COLUMN share_device_ip BOOLEAN NOT NULL DEFAULT FALSE;
