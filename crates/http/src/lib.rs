//! SplitID over HTTP: the only crate with axum. Each module is one API, whose handlers
//! translate requests into the domain's calls (`splitid-domain`) and its answers and errors
//! back into that API's shapes:
//!
//! - [`rp_api`]: `/v2` and `/v3`, Smart-ID's RP API v2 and v3 for relying parties;
//! - [`app_api`]: `/app/v1`, the app's API (docs/app-api.md);
//! - [`pki`]: `/pki`, the CA's certificates, CRLs and OCSP;
//! - [`web`]: the self-service portal's pages (and helpers for other pages, the Demo Bank's);
//! - [`observability`]: `/health`, `/ready`, `/metrics` and request timing;
//! - [`error`]: the status and body of every failure.

pub mod app_api;
pub mod error;
pub mod observability;
pub mod pki;
pub mod rp_api;
pub mod tls;
pub mod web;

use std::sync::Arc;

use axum::Router;
use splitid_domain::clock::Clock;
use splitid_domain::{NoTestClock, Service};

/// Largest request body accepted (the largest real one, a registration, is about 3 KiB).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The HTTP API: `/v2` for relying parties, `/app/v1` for the app, `/pki` for the CA,
/// `/health`, `/ready` and `/metrics`, and the web pages: `/portal`.
pub fn router(service: &Service) -> Router {
    router_with_pages(service, Router::new())
}

/// [`router`] with more pages (the binary's Demo Bank in demo mode), which get the pages'
/// security headers and, like every route, the body limit and the request metrics.
pub fn router_with_pages(service: &Service, pages: Router) -> Router {
    observability::install();
    Router::new()
        .nest("/v2", rp_api::v2::router())
        .nest("/v3", rp_api::v3::router())
        .nest("/app/v1", app_api::router())
        .nest("/pki", pki::router())
        .merge(observability::router())
        .with_state(service.clone())
        .merge(web::router(service))
        .merge(web::with_page_headers(pages))
        .layer(axum::middleware::from_fn(observability::time_requests))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The clock a node runs on (see [`splitid_domain::node_clock`]) and, for a test clock, the
/// route that moves it.
pub fn node_clock(use_test_clock: bool) -> Result<(Arc<dyn Clock>, Option<Router>), NoTestClock> {
    let node = splitid_domain::node_clock(use_test_clock)?;
    #[cfg(feature = "test-support")]
    let routes = node.test_clock.map(test_clock_router);
    #[cfg(not(feature = "test-support"))]
    let routes = None;
    Ok((node.clock, routes))
}

/// The route that moves a test clock: `POST /test/clock/advance?seconds=N`. Only builds
/// with the test kit have it (and a test clock to move).
#[cfg(feature = "test-support")]
pub fn test_clock_router(clock: splitid_domain::clock::OffsetClock) -> Router {
    use axum::extract::Query;
    use axum::routing::post;

    #[derive(serde::Deserialize)]
    struct Advance {
        seconds: i64,
    }

    Router::new().route(
        "/test/clock/advance",
        post(move |Query(advance): Query<Advance>| async move {
            clock.advance(time::Duration::seconds(advance.seconds));
            "advanced"
        }),
    )
}
