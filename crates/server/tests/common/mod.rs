//! Shared by the server's in-process tests: a demo service in a temporary directory, and one
//! HTTP call through its router.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use splitid_server::clock::SystemClock;
use splitid_server::{Config, Service};
use tower::ServiceExt;

/// A demo-mode service on a fresh data directory (kept alive by the returned guard);
/// `adjust` may change the configuration first.
pub async fn demo_service_with(adjust: impl FnOnce(&mut Config)) -> (Service, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new(data.path(), "http://127.0.0.1:8080");
    config.demo = true;
    adjust(&mut config);
    (
        Service::open(config, Arc::new(SystemClock)).await.unwrap(),
        data,
    )
}

pub async fn demo_service() -> (Service, tempfile::TempDir) {
    demo_service_with(|_| {}).await
}

/// Sends one request through the service's router; returns the status and the body.
pub async fn call(service: &Service, method: Method, uri: &str, body: &str) -> (u16, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = service.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}
