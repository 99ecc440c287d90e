//! Metrics are for the operator's own scraper: a request that does not come from a loopback
//! address (here: one with no peer address at all) is refused; health answers anyone.

use axum::http::Method;

#[tokio::test]
async fn metrics_are_refused_to_anyone_but_loopback() {
    let (service, _data) = splitid_testkit::in_process::demo_service().await;
    let (status, body) =
        splitid_testkit::in_process::call(&service, Method::GET, "/metrics", "").await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("loopback"));
    let (status, _) = splitid_testkit::in_process::call(&service, Method::GET, "/health", "").await;
    assert_eq!(status, 200);
}
