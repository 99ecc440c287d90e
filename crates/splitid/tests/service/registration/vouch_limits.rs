//! End to end: anyone may ask an account's phone to vouch for a new device, so such requests
//! are limited per account: one waiting at a time, five an hour (HTTP 429 beyond).

use serde_json::{Value, json};
use splitid_testkit::*;

fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = ::reqwest::blocking::Client::new()
        .post(url)
        .json(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

/// Asks the phone of `document` to vouch for a fresh challenge.
fn ask_to_vouch(server: &Server, document: &str) -> (u16, Value) {
    let (status, challenge) = post(
        &format!("{}/app/v1/proofing-challenges", server.url),
        &json!({}),
    );
    assert_eq!(status, 200, "{challenge}");
    let id = challenge["challengeId"].as_str().unwrap();
    post(
        &format!(
            "{}/app/v1/proofing-challenges/{id}/vouch-session",
            server.url
        ),
        &json!({ "documentNumber": document }),
    )
}

#[test]
fn requests_to_add_a_device_are_limited_per_account() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[proofing.account]\nenabled = true\n").unwrap();
    let server = Server::start(&["--config", config.path().to_str().unwrap()]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");

    for round in 1..=5 {
        let (status, answer) = ask_to_vouch(&server, &document);
        assert_eq!(status, 200, "request {round}: {answer}");
        let (status, answer) = ask_to_vouch(&server, &document);
        assert_eq!(status, 429, "one waiting at a time: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap()
                .contains("already waiting"),
            "{answer}"
        );
        phone.wait_for_transaction(10);
        assert_success(&phone.run(&["--json", "refuse", "--next"], ""));
    }
    let (status, answer) = ask_to_vouch(&server, &document);
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("per hour"),
        "{answer}"
    );
    assert!(phone.pending().is_empty(), "nothing more reached the phone");

    server.advance_clock(3600);
    assert_eq!(ask_to_vouch(&server, &document).0, 200, "an hour later");
    let (status, _) = ask_to_vouch(&server, "PNOEE-30303039914-ZZZZ-Q");
    assert_eq!(status, 404, "unknown accounts are not found");
}
