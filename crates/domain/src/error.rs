//! What can go wrong, in the domain's words. Each API renders these its own way (status
//! codes and bodies are the transport's business, not the domain's).

use thiserror::Error;

use crate::keystore::KeyStoreError;
use crate::store::StoreError;

/// Everything a request can fail with. The message of a caller's mistake is meant for the
/// caller's developer; faults of the service itself (storage, key store, internal) are for
/// the operator's log, never for the caller.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The request is malformed or breaks a rule (a field, a PIN length, a screen name).
    #[error("{0}")]
    Invalid(String),
    /// The caller did not prove who it is (a relying party's claim, an app's MAC).
    #[error("{0}")]
    NotAuthenticated(String),
    /// The caller is known but may not do this (a level it may not ask for).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    /// The request collides with the state it meets (used twice, raced, already done).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of a kind: a limit that protects people from spam.
    #[error("{0}")]
    RateLimited(String),
    /// The person has accounts, but none of the requested kind.
    #[error("{0}")]
    NoSuitableAccount(String),
    #[error("storage failure: {0}")]
    Store(StoreError),
    /// Not a `#[source]`: the message already carries it, and a source would print it twice
    /// in a cause chain (the module and token of a misconfigured HSM, for one).
    #[error("key store failure: {0}")]
    KeyStore(KeyStoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn internal(what: impl std::fmt::Display) -> Self {
        ServiceError::Internal(what.to_string())
    }

    /// Whether the service itself failed (the caller did nothing wrong, and learns nothing
    /// of the details).
    pub fn is_fault(&self) -> bool {
        matches!(self, Self::Store(_) | Self::KeyStore(_) | Self::Internal(_))
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            // Two requests of one app raced: the client's to retry, not a server fault.
            StoreError::ChannelMoved => ServiceError::Conflict(error.to_string()),
            error => ServiceError::Store(error),
        }
    }
}

impl From<splitid_evidence::EvidenceError> for ServiceError {
    fn from(error: splitid_evidence::EvidenceError) -> Self {
        match error {
            splitid_evidence::EvidenceError::Refused(why) => ServiceError::Invalid(why),
            splitid_evidence::EvidenceError::Unavailable(why) => ServiceError::Internal(why),
        }
    }
}

impl From<KeyStoreError> for ServiceError {
    fn from(error: KeyStoreError) -> Self {
        ServiceError::KeyStore(error)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
