//! The service's errors, and the one place where they become HTTP status codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use splitid_proto::rp_v2::{ErrorBody, RequestError};
use thiserror::Error;

use crate::keystore::KeyStoreError;
use crate::store::StoreError;

/// Everything a request can fail with. Client mistakes carry a message meant for the
/// client's developer; server faults are logged in full and answered with a bare 500.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of a kind (HTTP 429): a limit that protects people from spam.
    #[error("{0}")]
    TooManyRequests(String),
    /// The person has accounts, but none of the requested kind (Smart-ID's HTTP 471).
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

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NoSuitableAccount(_) => {
                StatusCode::from_u16(471).expect("471 is a valid status code")
            }
            Self::Store(_) | Self::KeyStore(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
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

impl From<KeyStoreError> for ServiceError {
    fn from(error: KeyStoreError) -> Self {
        ServiceError::KeyStore(error)
    }
}

impl From<RequestError> for ServiceError {
    fn from(error: RequestError) -> Self {
        ServiceError::BadRequest(error.to_string())
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let title = status
            .canonical_reason()
            .unwrap_or("No suitable account of requested type found");
        (status, Json(ErrorBody::new(status.as_u16(), title, detail))).into_response()
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
