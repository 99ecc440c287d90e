//! Health, readiness and Prometheus metrics.
//!
//! `/health` says the process serves; `/ready` that it can reach its database (a load
//! balancer sends traffic only to ready nodes); `/metrics` is the Prometheus text format,
//! answered only to loopback addresses (scrape through a local agent or a sidecar): the
//! figures tell how busy each relying party is, which is nobody else's business.
//!
//! Metric names (all prefixed `splitid_`): `sessions_started_total{kind}`,
//! `sessions_completed_total{kind,result}`, `registrations_total{method}`,
//! `pin_failures_total{purpose}`, `pin_locks_total{purpose,lock}`, `long_poll_waiters`,
//! `http_request_duration_seconds{route,method,status}`, `db_connections{state}`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use splitid_domain::Service;

/// The process's one metrics recorder (a global, as the `metrics` facade wants).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test process with several
        // services): then this handle stays empty, which only the metrics endpoint sees.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Installs the recorder (call once at start, before any request).
pub fn install() {
    recorder();
}

/// `/health`, `/ready` and `/metrics`.
pub fn router() -> Router<Service> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(render))
}

async fn health() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

async fn ready(State(service): State<Service>) -> Response {
    match service.store().ping().await {
        Ok(()) => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready"}"#,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"the database does not answer"}"#,
            )
                .into_response()
        }
    }
}

async fn render(State(service): State<Service>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    if !peer.is_some_and(|ConnectInfo(address)| address.ip().is_loopback()) {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to loopback addresses only\n",
        )
            .into_response();
    }
    let (open, idle) = service.store().connections();
    metrics::gauge!("splitid_db_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("splitid_db_connections", "state" => "busy")
        .set(f64::from(open).max(idle as f64) - idle as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
        .into_response()
}

/// Times every request by route (the route pattern, never the path: no session ids or
/// identity codes in label values).
pub async fn time_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        "splitid_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}
