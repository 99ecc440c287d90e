//! Certificates, CRLs and OCSP answers (checked with openssl), the CA across upgrades, keys in an HSM.

mod ca_upgrade;
mod pkcs11_keystore;
mod relying_party_checks;
