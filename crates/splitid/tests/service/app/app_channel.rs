//! The app channel through the router, as the app uses it: a confirmed login answers with the
//! next ratchet token; a retransmission of the same request (its answer lost on the way) gets
//! the same answer again, the one the confirmation committed with the session's result (kept
//! sealed); the next request goes on with the new token; a recorded request replayed later is
//! refused and changes nothing; and the superseded token, sent with a new request, can only
//! come from a copy of the app, which closes the account.

use aws_lc_rs::{digest, hmac};
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_domain::Service;
use splitid_domain::store::{AccountRecord, AccountState, SessionState};
use splitid_http::app_api::Ratcheted;
use splitid_proto::app_v1::{Confirmation, TransactionOutcome, headers, mac_input};
use splitid_testkit::in_process::registered::{
    HALF, Registered, register, start_login, try_register,
};
use splitkey::{HashAlgorithm, Padding, SignRequest};

/// One ratcheted request of the app, with the headers it signs.
#[derive(Clone)]
struct AppRequest {
    path: String,
    body: Vec<u8>,
    ratchet: String,
    nonce: String,
}

impl AppRequest {
    fn new(path: String, body: Vec<u8>, ratchet: &str, nonce: &str) -> Self {
        AppRequest {
            path,
            body,
            ratchet: ratchet.to_owned(),
            nonce: nonce.to_owned(),
        }
    }

    /// Sends the request, signed as the app signs it; sent twice with the same timestamp, it
    /// is a retransmission byte for byte. The status and the body.
    async fn send(&self, service: &Service, app: &Registered, timestamp: i64) -> (u16, Vec<u8>) {
        let timestamp = timestamp.to_string();
        let input = mac_input(
            "POST",
            &self.path,
            &timestamp,
            &self.nonce,
            &self.ratchet,
            &self.body,
        );
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &app.mac_key), &input);
        let request = Request::builder()
            .method("POST")
            .uri(&self.path)
            .header("content-type", "application/json")
            .header(headers::ACCOUNT, &app.app.account_id)
            .header(headers::TIMESTAMP, &timestamp)
            .header(headers::NONCE, &self.nonce)
            .header(headers::RATCHET, &self.ratchet)
            .header(headers::MAC, BASE64.encode(mac.as_ref()))
            .body(Body::from(self.body.clone()))
            .unwrap();
        splitid_testkit::in_process::send(service, request).await
    }
}

async fn stored_account(service: &Service, app: &Registered) -> AccountRecord {
    let id = app.account.id;
    service.store().account(id).await.unwrap().unwrap()
}

fn answer_path(app: &Registered, session: uuid::Uuid, action: &str) -> String {
    format!(
        "/app/v1/accounts/{}/transactions/{session}/{action}",
        app.app.account_id
    )
}

/// The device's confirmation of the demo login (its hash is 32 zero bytes) with PIN1.
fn confirmation_body(app: &Registered, session: uuid::Uuid) -> Vec<u8> {
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &[0; 32]).unwrap();
    let partial = app.auth.partial_sign(&app.pin1, &request).unwrap();
    serde_json::to_vec(&Confirmation {
        sealed_partial_signature: Some(app.seal_confirmation(
            &partial,
            "authentication",
            &session.to_string(),
        )),
        chosen_code: None,
        encoded_message: None,
        user_challenge: None,
    })
    .unwrap()
}

#[tokio::test]
async fn a_lost_answer_is_given_again_and_the_channel_moves_on() {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let app = register(&service).await;
    let session = start_login(&service).await;
    let now = service.wall_clock().unix_timestamp();

    let confirm = AppRequest::new(
        answer_path(&app, session, "confirm"),
        confirmation_body(&app, session),
        &app.app.ratchet_token,
        "nonce-1",
    );
    let (status, first) = confirm.send(&service, &app, now).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let answer: Ratcheted<TransactionOutcome> = serde_json::from_slice(&first).unwrap();
    assert!(
        matches!(&answer.result, TransactionOutcome::Completed { end_result } if end_result == "OK"),
        "{answer:?}"
    );

    // What the confirmation committed: the session's result and, with it, the answer the
    // channel gives again.
    let stored = service.store().session(session).await.unwrap().unwrap();
    assert_eq!(stored.state, SessionState::Complete);
    let account = stored_account(&service, &app).await;
    let next_token = BASE64.decode(&answer.next_ratchet_token).unwrap();
    // The stored answer is sealed: the database holds neither it nor the token in clear.
    let stored_answer = account.channel.last_response.clone().unwrap();
    assert_ne!(stored_answer, first);
    for secret in [answer.next_ratchet_token.as_bytes(), &next_token[..]] {
        assert!(
            !stored_answer.windows(secret.len()).any(|w| w == secret),
            "the next token is stored in clear"
        );
    }
    assert_eq!(
        account.channel.ratchet_token,
        digest::digest(&digest::SHA256, &next_token).as_ref()
    );

    // The answer was lost: the app sends the same bytes again and gets the same answer.
    let (status, again) = confirm.send(&service, &app, now).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&again));
    assert_eq!(again, first);

    // The next request goes on with the new token (the transaction is over by now).
    let refuse = AppRequest::new(
        answer_path(&app, session, "refuse"),
        b"{}".to_vec(),
        &answer.next_ratchet_token,
        "nonce-2",
    );
    let (status, body) = refuse.send(&service, &app, now).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let refused: Ratcheted<TransactionOutcome> = serde_json::from_slice(&body).unwrap();
    assert_eq!(refused.result, TransactionOutcome::Gone);

    // The confirmation recorded and replayed now that the app has moved on: refused as a
    // replay, and nothing changes (no clone is assumed).
    let (status, body) = confirm.send(&service, &app, now).await;
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("replayed"));
    assert_eq!(
        stored_account(&service, &app).await.state,
        AccountState::Active
    );

    // The superseded token with a request never seen: a copy of the app.
    let stale = AppRequest::new(
        answer_path(&app, session, "refuse"),
        b"{}".to_vec(),
        &app.app.ratchet_token,
        "nonce-3",
    );
    let (status, body) = stale.send(&service, &app, now).await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let closed = stored_account(&service, &app).await;
    assert_ne!(closed.state, AccountState::Active);
}

/// A key locked for good whose closure never ran (a crash after the ninth count): the
/// account's next request, on whichever node, closes it and revokes its certificates first.
#[tokio::test]
async fn the_next_request_finishes_a_closure_a_crash_interrupted() {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let app = register(&service).await;
    let locked = splitid_domain::store::PinCounter {
        wrong_in_a_row: 9,
        locked_until: None,
    };
    service
        .store()
        .set_pin_counter(
            app.account.id,
            splitid_domain::store::KeyPurpose::Authentication,
            locked,
        )
        .await
        .unwrap();
    assert_eq!(
        stored_account(&service, &app).await.state,
        AccountState::Active
    );
    let vouch = AppRequest::new(
        format!("/app/v1/accounts/{}/vouch", app.app.account_id),
        b"{}".to_vec(),
        &app.app.ratchet_token,
        "nonce-after-crash",
    );
    vouch
        .send(&service, &app, service.wall_clock().unix_timestamp())
        .await;
    let closed = stored_account(&service, &app).await;
    assert_eq!(closed.state, AccountState::Closed);
    assert_eq!(
        closed.closed_reason.as_deref(),
        Some("PIN permanently locked")
    );
    for purpose in [
        splitid_domain::store::KeyPurpose::Authentication,
        splitid_domain::store::KeyPurpose::Signing,
    ] {
        let serial = service
            .key(app.account.id, purpose)
            .await
            .unwrap()
            .serial
            .unwrap();
        let revocation = service.store().revocation(&serial).await.unwrap().unwrap();
        assert_eq!(revocation.reason, "privilegeWithdrawn");
    }
}

/// The MAC key is the app's: one that is not 32 bytes (a weak or broken app) is refused, and
/// no account is made.
#[tokio::test]
async fn a_mac_key_of_the_wrong_length_is_refused() {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let refused = try_register(&service, vec![7; 16]).await.err().unwrap();
    assert!(
        matches!(&refused, splitid_domain::error::ServiceError::Invalid(m) if m.contains("sealedMacKey: the MAC key must be 32 bytes")),
        "{refused:?}"
    );
    assert!(
        service
            .store()
            .accounts_of_person("PNOEE-30303039914")
            .await
            .unwrap()
            .is_empty()
    );
}

/// With PSS the phone draws the salt and sends μ: a μ that does not encode the session's
/// digest is refused with 400 before any PIN is judged (no attempt counted, the transaction
/// still open), and the right one then completes.
#[tokio::test]
async fn a_pss_encoding_of_another_digest_is_refused_before_the_pin_is_judged() {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let app = register(&service).await;
    let digest = [7u8; 32];
    let body = serde_json::json!({
        "relyingPartyUUID": "00000000-0000-4000-8000-000000000000", "relyingPartyName": "DEMO",
        "signatureProtocol": "RAW_DIGEST_SIGNATURE",
        "signatureProtocolParameters": {
            "digest": BASE64.encode(digest), "signatureAlgorithm": "rsassa-pss",
            "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-256"}
        },
        "interactions": BASE64.encode(r#"[{"type":"displayTextAndPIN","displayText60":"Sign"}]"#),
    });
    let path = format!(
        "/v3/signature/notification/document/{}",
        app.account.document_number
    );
    let (status, started) = splitid_testkit::in_process::call(
        &service,
        axum::http::Method::POST,
        &path,
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&started));
    let started: serde_json::Value = serde_json::from_slice(&started).unwrap();
    let session: uuid::Uuid = started["sessionID"].as_str().unwrap().parse().unwrap();

    let confirmation = |signed: &[u8; 32]| {
        let request = SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pss, signed).unwrap();
        let partial = app.sign.partial_sign(&app.pin2, &request).unwrap();
        serde_json::to_vec(&Confirmation {
            sealed_partial_signature: Some(app.seal_confirmation(
                &partial,
                "signing",
                &session.to_string(),
            )),
            chosen_code: None,
            encoded_message: Some(BASE64.encode(request.encoded())),
            user_challenge: None,
        })
        .unwrap()
    };
    let now = service.wall_clock().unix_timestamp();
    let path = answer_path(&app, session, "confirm");
    let forged = AppRequest::new(
        path.clone(),
        confirmation(&[8u8; 32]),
        &app.app.ratchet_token,
        "n1",
    );
    let (status, answer) = forged.send(&service, &app, now).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&answer));
    assert!(String::from_utf8_lossy(&answer).contains("encodedMessage"));
    let signing_key = service
        .store()
        .key(app.account.id, splitid_domain::store::KeyPurpose::Signing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signing_key.pin, Default::default(), "no attempt counted");
    let stored = service.store().session(session).await.unwrap().unwrap();
    assert_eq!(stored.state, SessionState::Running);

    let genuine = AppRequest::new(path, confirmation(&digest), &app.app.ratchet_token, "n2");
    let (status, answer) = genuine.send(&service, &app, now).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let stored = service.store().session(session).await.unwrap().unwrap();
    assert_eq!(stored.state, SessionState::Complete);
}
