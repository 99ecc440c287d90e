-- n2⁻¹ mod n1 beside each key: public (both moduli are), kept so that completing a signature
-- does not compute a modular inverse each time. NULL for keys stored before; the service
-- then computes it as it did.
ALTER TABLE account_keys ADD COLUMN crt_coefficient BLOB;
