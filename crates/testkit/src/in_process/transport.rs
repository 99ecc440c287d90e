//! The device core's transport straight into a service's router: the app's flows run in
//! process against the real service, with no network and no server process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use futures_util::StreamExt;
use splitid_app::AppError;
use splitid_app::ports::{Request, Response, StreamedResponse, Transport};
use splitid_domain::Service;
use tower::ServiceExt;

/// Requests go to `service`'s router whatever host their URL names. Clones share the count of
/// answers to lose.
#[derive(Clone)]
pub struct InProcess {
    service: Service,
    answers_to_lose: Arc<AtomicU32>,
}

impl InProcess {
    pub fn new(service: Service) -> Self {
        InProcess {
            service,
            answers_to_lose: Arc::default(),
        }
    }

    /// The next `count` requests reach the service and are handled, but their answers never
    /// reach the app (a mobile network drop after the server committed): the app sees a
    /// network error.
    pub fn lose_next_answers(&self, count: u32) {
        self.answers_to_lose.store(count, Ordering::SeqCst);
    }

    fn answer_is_lost(&self) -> bool {
        self.answers_to_lose
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }

    async fn answer(&self, request: Request) -> Result<axum::response::Response, AppError> {
        // The path and query: what follows the URL's authority.
        let after_scheme = request.url.split_once("://").map_or("", |(_, rest)| rest);
        let path = after_scheme
            .find('/')
            .map_or("/", |slash| &after_scheme[slash..]);
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(path);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value);
        }
        if !request.body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        let http = builder
            .body(Body::from(request.body))
            .map_err(|e| AppError::Network(e.to_string()))?;
        splitid_http::router(&self.service)
            .oneshot(http)
            .await
            .map_err(|e| AppError::Network(e.to_string()))
    }
}

impl Transport for InProcess {
    async fn send(&self, request: Request) -> Result<Response, AppError> {
        let response = self.answer(request).await?;
        if self.answer_is_lost() {
            return Err(AppError::Network("the answer was lost on the way".into()));
        }
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| AppError::Network(e.to_string()))?
            .to_vec();
        Ok(Response { status, body })
    }

    async fn stream(&self, request: Request) -> Result<StreamedResponse, AppError> {
        let response = self.answer(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().into_data_stream().map(|chunk| {
            chunk
                .map(|bytes| bytes.to_vec())
                .map_err(|e| AppError::Network(e.to_string()))
        });
        Ok(StreamedResponse {
            status,
            body: Box::pin(body),
        })
    }
}
