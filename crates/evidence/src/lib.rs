//! The evidence people register with, checked: what an eID certificate (ID card, Mobile-ID)
//! or an OpenID Connect ID token proves about who they are ([`ProvenIdentity`]). The checks
//! fetch what they need (CRLs, OCSP answers) themselves; which methods are enabled, the
//! challenges evidence is bound to and the accounts it opens are the domain's.

pub mod eid;
mod identity;
pub mod oidc;

use splitid_proto::identifiers::SemanticsIdentifier;

pub use identity::ProvenIdentity;

/// Why evidence was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// It does not prove an identity (the registrant's to fix): a broken chain, a revoked
    /// certificate, a bad signature, a wrong claim.
    #[error("{0}")]
    Refused(String),
    /// It cannot be checked here: the operator's configuration or the machine is at fault.
    #[error("{0}")]
    Unavailable(String),
}

impl EvidenceError {
    pub fn unavailable(what: impl std::fmt::Display) -> Self {
        EvidenceError::Unavailable(what.to_string())
    }
}

pub type EvidenceResult<T> = Result<T, EvidenceError>;

/// Longest given name or surname accepted.
const LONGEST_NAME: usize = 64;

/// The assurance a proofing method gives, which becomes the certificates' level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    Qualified,
    Advanced,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::Qualified => "QUALIFIED",
            Assurance::Advanced => "ADVANCED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "QUALIFIED" => Some(Assurance::Qualified),
            "ADVANCED" => Some(Assurance::Advanced),
            _ => None,
        }
    }
}

/// A name from the registrant (demo) or from evidence: trimmed, upper case, no commas or
/// control characters (they would break the certificate's subject).
pub fn check_name(field: &str, name: &str) -> EvidenceResult<String> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.chars().count() <= LONGEST_NAME
        && !name.chars().any(|c| c.is_control() || c == ',');
    if valid {
        Ok(name.to_uppercase())
    } else {
        Err(EvidenceError::Refused(format!(
            "{field}: 1 to {LONGEST_NAME} characters, no commas or control characters"
        )))
    }
}

/// A semantics identifier from evidence, checked.
pub fn check_semantics_id(field: &str, text: &str) -> EvidenceResult<SemanticsIdentifier> {
    text.parse()
        .map_err(|e| EvidenceError::Refused(format!("{field}: not a semantics identifier ({e})")))
}
