//! What can go wrong in the device core.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("the server refused (HTTP {status}): {detail}")]
    Server { status: u16, detail: String },
    #[error("the server's answer is not what the app expects: {0}")]
    Protocol(String),
    #[error("device store: {0}")]
    Vault(String),
    #[error("{0}")]
    Key(#[from] splitkey::Error),
}

impl From<splitid_sealing::SealingError> for AppError {
    fn from(error: splitid_sealing::SealingError) -> Self {
        AppError::Protocol(error.to_string())
    }
}
