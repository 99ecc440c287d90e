//! How the HTTP APIs answer a failure: a status for each kind of domain error, the transport's
//! own refusals (a malformed body, path or query; a wrong method; a body too large), and the
//! JSON body the app API and the CA's routes answer with. RP API v2 renders its own
//! (`V2Error`, in `rp_api::v2`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use splitid_proto::app_v1::ErrorBody;

use splitid_domain::error::ServiceError;

/// A failed HTTP request.
#[derive(Debug)]
pub enum HttpError {
    /// What the domain refused or failed at.
    Service(ServiceError),
    /// The request does not reach the domain: an unreadable body, path or query.
    Malformed(String),
    MethodNotAllowed(String),
    PayloadTooLarge(String),
}

impl From<ServiceError> for HttpError {
    fn from(error: ServiceError) -> Self {
        HttpError::Service(error)
    }
}

impl HttpError {
    /// The status every API answers with, except where one renders a kind its own way (v2's
    /// 471 for no suitable account).
    pub fn status(&self) -> StatusCode {
        let service = match self {
            Self::Malformed(_) => return StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(_) => return StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => return StatusCode::PAYLOAD_TOO_LARGE,
            Self::Service(error) => error,
        };
        match service {
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ServiceError::NotAuthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::NotAllowed(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) | ServiceError::NoSuitableAccount(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Store(_) | ServiceError::KeyStore(_) | ServiceError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the caller is told: the message of its own mistake; of a fault of the service,
    /// nothing (the fault goes to the log, in full).
    pub fn detail(&self) -> String {
        match self {
            Self::Service(error) if error.is_fault() => {
                tracing::error!(%error, "request failed");
                "internal error".to_owned()
            }
            Self::Service(error) => error.to_string(),
            Self::Malformed(message)
            | Self::MethodNotAllowed(message)
            | Self::PayloadTooLarge(message) => message.clone(),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or_default();
        let body = ErrorBody::new(status.as_u16(), title, self.detail());
        (status, Json(body)).into_response()
    }
}

pub type HttpResult<T> = Result<T, HttpError>;
