//! The crate's one error type.
//!
//! Variants say *whose* fault a failure is: `Config`, `Request`, `Modulus`, `Serial` and `Validity`
//! reject the caller's input; `CaParts` rejects stored CA material; `Certificate` rejects a
//! certificate given to [`crate::parse_identity`]; `Backend` means the signing or encoding
//! machinery itself failed (an infrastructure alarm, not bad input).

/// Everything that can go wrong in this crate. No input makes the crate panic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PkiError {
    /// The [`crate::CaConfig`] cannot produce a conforming CA.
    #[error("invalid CA configuration: {0}")]
    Config(&'static str),

    /// A field of a [`crate::CertificateRequest`] cannot go into a conforming certificate.
    #[error("invalid certificate request field `{field}`: {problem}")]
    Request {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The RSA modulus is not 4096 or 6144 bits long.
    #[error("unsupported RSA modulus size: {bits} bits (only 4096 and 6144 are accepted)")]
    ModulusSize {
        /// Bit length of the modulus received.
        bits: usize,
    },

    /// The RSA modulus has the right size but cannot be an RSA modulus (e.g. it is even).
    #[error("invalid RSA modulus: {0}")]
    Modulus(&'static str),

    /// A caller-chosen serial number is not a valid RFC 5280 serial number.
    #[error("invalid serial number: {0}")]
    Serial(&'static str),

    /// The requested validity period is not representable or not covered by the issuing CA.
    #[error("invalid validity period: {0}")]
    Validity(&'static str),

    /// Stored CA parts are malformed or do not belong together.
    #[error("invalid CA parts: {0}")]
    CaParts(&'static str),

    /// A certificate handed to [`crate::parse_identity`] is malformed or not of SplitID's profile.
    #[error("certificate not readable as a SplitID end-user certificate: {0}")]
    Certificate(String),

    /// Key generation, signing or DER encoding failed (not caused by input that was validated).
    #[error("certificate machinery failed: {0}")]
    Backend(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PkiError>;

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Backend(format!("rcgen: {e}"))
    }
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Backend(format!("DER encoding: {e}"))
    }
}
