//! SplitID's certificate authority, as a library that knows nothing of HTTP or storage.
//!
//! A root CA certifies one issuing CA (both ECDSA P-384 with SHA-384, as SK's 2024E line);
//! the issuing CA certifies end users' split-key RSA public keys with Smart-ID's certificate
//! profile (docs/spec/rp-api.md §4, docs/spec/cert-profile.md):
//!
//! ```text
//! CaConfig ──generate──▶ CertificateAuthority ──to_parts──▶ CaParts (caller stores them)
//!                          ▲            │
//!               from_parts ┘            └─issue(CertificateRequest)──▶ DER ──parse_identity──▶ CertifiedIdentity
//! ```
//!
//! The CA keys can live outside this crate: [`CertificateAuthority::generate_with_signers`] takes
//! two [`CaSigner`]s (the server implements them over PKCS#11), and every CA signature is then
//! asked of them; [`CaParts`] then carries the signers instead of PKCS#8 keys.
//!
//! Revocation status is published two ways, both signed here from statuses the caller keeps:
//! CRLs (`crl.rs`, the issuing CA's and the root's) and OCSP answers (`ocsp.rs`, signed by a
//! delegated responder certificate that is part of [`CaParts`]). The other side of OCSP,
//! asking someone else's responder and checking its answer, is [`ocsp_client`] (the bytes are
//! the caller's to carry).
//!
//! Files follow that flow: `config.rs` (CaConfig, publication URLs), `ca.rs` (CA generation,
//! persistence, issuing), `crl.rs`, `ocsp.rs`, `profile.rs` (the end-user profile: subject, key usages, policies,
//! validity), `ext.rs` (extensions rcgen cannot write, hand-encoded with `der`), `keys.rs`
//! (CA keys, the RSA subject key, serial numbers), `parse.rs` (reading certificates back),
//! `oids.rs`, `error.rs`.
//!
//! Certificates are built and signed with rcgen (aws-lc-rs backend) and read with x509-cert;
//! the two ASN.1 stacks only exchange DER bytes.

mod ca;
mod config;
mod crl;
mod error;
mod ext;
mod keys;
mod ocsp;
pub mod ocsp_client;
pub mod oids;
mod parse;
mod profile;

pub use ca::{
    CaParts, CertificateAuthority, ISSUING_VALIDITY_YEARS, ROOT_VALIDITY_YEARS, ResponderParts,
};
pub use config::{CaConfig, PublicationUrls};
pub use crl::{CrlTerms, RevocationReason, RevokedCertificate};
pub use error::{PkiError, Result};
pub use keys::{ACCEPTED_MODULUS_BITS, CaKeyParts, CaSigner, CaSignerError, SerialNumber};
pub use ocsp::{
    CertificateStatus, MAX_REQUESTS, OCSP_VALIDITY, OcspQuery, RESPONDER_RENEWAL_DAYS,
    RESPONDER_VALIDITY_DAYS,
};
pub use parse::{CertifiedIdentity, parse_identity};
pub use profile::{CertificateRequest, END_USER_VALIDITY_YEARS, Level, Purpose, policies_for};
