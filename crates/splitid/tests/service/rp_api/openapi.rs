//! The served OpenAPI description matches the router: every documented operation exists, and
//! answers a sample request with one of the status codes documented for it.

use axum::http::Method;
use serde_json::Value;
use splitid_testkit::in_process::{call, demo_service};

fn sample_path(template: &str) -> String {
    template
        .replace("{semanticsIdentifier}", "PNOEE-30303039914")
        .replace("{documentNumber}", "PNOEE-30303039914-ABCD-Q")
        .replace("{sessionId}", "de305d54-75b4-431b-adb2-eb6b9e546014")
}

#[tokio::test]
async fn every_documented_operation_exists_and_answers_as_documented() {
    let (service, _data) = demo_service().await;
    let (status, body) = call(&service, Method::GET, "/v2/openapi.json", "").await;
    assert_eq!(status, 200);
    let spec: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        8,
        "six session starts, the status and the description"
    );
    for (template, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            // A valid-looking body for an unknown person: a documented 4xx, never the router's
            // own 404/405 for an undocumented route.
            let body = r#"{"relyingPartyUUID":"00000000-0000-4000-8000-000000000000","relyingPartyName":"DEMO","hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashType":"SHA256","allowedInteractionsOrder":[{"type":"displayTextAndPIN","displayText60":"x"}]}"#;
            let uri = format!("/v2{}", sample_path(template));
            let (status, answer) = call(&service, method.clone(), &uri, body).await;
            let documented = operation["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(&status.to_string()),
                "{method} {uri} answered {status}, not documented: {}",
                String::from_utf8_lossy(&answer)
            );
            if status >= 400 {
                let error: Value = serde_json::from_slice(&answer).unwrap();
                assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
            }
        }
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let (service, _data) = demo_service().await;
    let huge = format!("{{\"relyingPartyName\":\"{}\"}}", "x".repeat(100 * 1024));
    let (status, _) = call(
        &service,
        Method::POST,
        "/v2/authentication/etsi/PNOEE-30303039914",
        &huge,
    )
    .await;
    assert_eq!(status, 413);
}
