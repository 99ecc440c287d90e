//! The service as a library, in process: a demo service on a temporary data directory, one
//! HTTP request through its router, an account registered as the app registers one, and the
//! device core's transport into the router ([`transport::InProcess`]).

pub mod registered;
pub mod transport;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use splitid_domain::clock::SystemClock;
use splitid_domain::{Config, Service};
use tower::ServiceExt;

use crate::database::{ScratchDatabase, postgres_config, scratch_database, tests_use_postgres};

/// A service's data directory and, when the tests run on PostgreSQL
/// (`SPLITID_TEST_DATABASE=postgres`), its scratch database; both go when this is dropped.
pub struct TestData {
    dir: tempfile::TempDir,
    database: Option<ScratchDatabase>,
}

impl TestData {
    pub async fn new(postgres: bool) -> TestData {
        let database = if postgres {
            Some(scratch_database().await)
        } else {
            None
        };
        TestData {
            dir: tempfile::tempdir().unwrap(),
            database,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A demo-mode configuration on this data (a node of its own, each time).
    pub fn config(&self) -> Config {
        let mut config = Config::new(self.path(), "http://127.0.0.1:8080");
        config.demo = true;
        if let Some(database) = &self.database {
            config.database = postgres_config(database, 8);
        }
        config
    }

    /// A service (a node) on this data.
    pub async fn open(&self, adjust: impl FnOnce(&mut Config)) -> Service {
        let mut config = self.config();
        adjust(&mut config);
        Service::open(config, Arc::new(SystemClock)).await.unwrap()
    }
}

/// A demo-mode service on a fresh data directory (kept alive by the returned guard), on the
/// database the tests run on; `adjust` may change the configuration first.
pub async fn demo_service_with(adjust: impl FnOnce(&mut Config)) -> (Service, TestData) {
    let data = TestData::new(tests_use_postgres()).await;
    (data.open(adjust).await, data)
}

pub async fn demo_service() -> (Service, TestData) {
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
    send(service, request).await
}

/// Sends a request through the service's router; returns the status and the body.
pub async fn send(service: &Service, request: Request<Body>) -> (u16, Vec<u8>) {
    let response = splitid_http::router(service)
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}
