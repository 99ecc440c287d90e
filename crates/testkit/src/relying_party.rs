//! The relying party: an HTTP client of the RP API v2, and the bodies it sends.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::node::Server;

/// The demo relying party's UUID.
pub const DEMO_RP_UUID: &str = "00000000-0000-4000-8000-000000000000";

/// The relying party.
pub struct RelyingParty {
    pub base: String,
    http: reqwest::blocking::Client,
}

impl RelyingParty {
    pub fn new(server: &Server) -> Self {
        RelyingParty {
            base: format!("{}/v2", server.url),
            http: reqwest::blocking::Client::new(),
        }
    }

    /// A relying party that trusts the CA certificate `ca_pem` for the server's TLS
    /// certificate (a test CA).
    pub fn trusting(server: &Server, ca_pem: &[u8]) -> Self {
        let ca = reqwest::Certificate::from_pem(ca_pem).unwrap();
        RelyingParty {
            base: format!("{}/v2", server.url),
            http: reqwest::blocking::Client::builder()
                .add_root_certificate(ca)
                .build()
                .unwrap(),
        }
    }

    /// POSTs `body` to `path`; returns the status and the JSON answer.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    pub fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// GETs `path` (under `/v2`); returns the status and the JSON answer.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Starts a session; panics unless it is created.
    pub fn start(&self, path: &str, body: &Value) -> String {
        let (status, answer) = self.post(path, body);
        assert_eq!(status, 200, "{path}: {answer}");
        answer["sessionID"].as_str().unwrap().to_owned()
    }

    /// Long-polls a session.
    pub fn status(&self, session: &str, timeout_ms: u64) -> (u16, Value) {
        let response = self
            .http
            .get(format!(
                "{}/session/{session}?timeoutMs={timeout_ms}",
                self.base
            ))
            .timeout(Duration::from_millis(timeout_ms + 10_000))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Long-polls until the session completes.
    pub fn result(&self, session: &str) -> Value {
        for _ in 0..10 {
            let (status, answer) = self.status(session, 30_000);
            assert_eq!(status, 200, "{answer}");
            if answer["state"] == "COMPLETE" {
                return answer;
            }
        }
        panic!("session {session} did not complete");
    }
}

/// A SHA-512 hash of fresh text, as a relying party makes for a login.
pub fn fresh_hash(label: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let text = format!(
        "{label} {} {:?}",
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Instant::now()
    );
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, text.as_bytes())
        .as_ref()
        .to_vec()
}

/// A login body (SHA-512 of fresh text) with the given interactions.
pub fn login_body(interactions: Value) -> Value {
    signing_body(&fresh_hash("login"), "SHA512", interactions)
}

/// A certificate-choice body of the demo relying party.
pub fn certificate_choice_body() -> Value {
    json!({ "relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO" })
}

/// A signing request body as the demo relying party sends it.
pub fn signing_body(hash: &[u8], hash_type: &str, interactions: Value) -> Value {
    json!({
        "relyingPartyUUID": DEMO_RP_UUID,
        "relyingPartyName": "DEMO",
        "hash": BASE64.encode(hash),
        "hashType": hash_type,
        "allowedInteractionsOrder": interactions,
    })
}

pub fn display_text_and_pin(text: &str) -> Value {
    json!([{ "type": "displayTextAndPIN", "displayText60": text }])
}
