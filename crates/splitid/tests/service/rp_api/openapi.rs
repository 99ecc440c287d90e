//! The served OpenAPI descriptions (v2, v3) match the router: every documented operation
//! exists, and answers a sample request with one of the status codes documented for it.

use axum::http::Method;
use serde_json::Value;
use splitid_testkit::in_process::{call, demo_service};

fn sample_path(template: &str) -> String {
    template
        .replace("{semanticsIdentifier}", "PNOEE-30303039914")
        .replace("{documentNumber}", "PNOEE-30303039914-ABCD-Q")
        .replace("{sessionId}", "de305d54-75b4-431b-adb2-eb6b9e546014")
}

/// Each version's description at `/{version}/openapi.json`: every documented operation exists
/// and answers a valid-looking body for an unknown person with a documented status (never the
/// router's own 404/405 for an undocumented route); a refusal explains itself.
async fn check_description(version: &str, operations_expected: usize, body: &str) {
    let (service, _data) = demo_service().await;
    let (status, answer) = call(
        &service,
        Method::GET,
        &format!("/{version}/openapi.json"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let spec: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["servers"][0]["url"], format!("/{version}"));
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        operations_expected,
        "{version}: {:?}",
        paths.keys()
    );
    for (template, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let uri = format!("/{version}{}", sample_path(template));
            let (status, answer) = call(&service, method.clone(), &uri, body).await;
            let documented = operation["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(&status.to_string()),
                "{method} {uri} answered {status}, not documented: {}",
                String::from_utf8_lossy(&answer)
            );
            if status >= 400 && status != 401 {
                let error: Value = serde_json::from_slice(&answer).unwrap();
                assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
            }
        }
    }
}

#[tokio::test]
async fn every_v2_operation_exists_and_answers_as_documented() {
    // Six session starts, the status and the description.
    let body = r#"{"relyingPartyUUID":"00000000-0000-4000-8000-000000000000","relyingPartyName":"DEMO","hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashType":"SHA256","allowedInteractionsOrder":[{"type":"displayTextAndPIN","displayText60":"x"}]}"#;
    check_description("v2", 8, body).await;
}

#[tokio::test]
async fn every_v3_operation_exists_and_answers_as_documented() {
    // Five notification starts, the certificate lookup, the status and the description.
    let body = r#"{"relyingPartyUUID":"00000000-0000-4000-8000-000000000000","relyingPartyName":"DEMO","signatureProtocol":"ACSP_V2","signatureProtocolParameters":{"rpChallenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","signatureAlgorithm":"rsassa-pss","signatureAlgorithmParameters":{"hashAlgorithm":"SHA-512"}},"interactions":"W3sidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IngifV0=","vcType":"numeric4"}"#;
    check_description("v3", 15, body).await;
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
