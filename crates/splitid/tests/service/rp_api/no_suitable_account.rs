//! No suitable account: the person has an account, but not of the level the relying party asks for
//! (v2: HTTP 471; v3: 404 with NO_SUITABLE_ACCOUNT_FOUND).
//! (Demo registrations are always QUALIFIED, so the ADVANCED account is written directly.)

use axum::http::Method;
use serde_json::Value;
use splitid_domain::Service;
use splitid_domain::store::{
    AccountRecord, AccountState, AuditEvent, AuditKind, ChannelState, KeyPurpose, KeyRecord,
};

async fn service_with_an_advanced_account() -> (Service, splitid_testkit::in_process::TestData) {
    let (service, data) = splitid_testkit::in_process::demo_service().await;
    let now = service.now();
    let account = AccountRecord {
        id: uuid::Uuid::new_v4(),
        document_number: "PNOEE-30303039914-ADV1-NQ".into(),
        semantics_id: "PNOEE-30303039914".into(),
        given_name: "MARY".into(),
        surname: "ÄNN".into(),
        country: "EE".into(),
        level: "ADVANCED".into(),
        proofing_method: "test".into(),
        state: AccountState::Active,
        closed_reason: None,
        created_at: now,
        expires_at: now + time::Duration::days(365),
        last_used_at: None,
        mac_key_sealed: vec![0; 48],
        channel: ChannelState {
            ratchet_token: vec![0; 32],
            ..ChannelState::default()
        },
        interactions: vec!["displayTextAndPIN".into()],
        proofing_evidence: serde_json::json!({}),
    };
    let key = |purpose| KeyRecord {
        purpose,
        half_bits: 3072,
        device_modulus: vec![1; 384],
        server_exponent_sealed: vec![],
        server_key_sealed: vec![],
        crt_coefficient: None,
        certificate: vec![],
        serial: None,
        pin: Default::default(),
    };
    service
        .store()
        .insert_account(
            &account,
            &[key(KeyPurpose::Authentication), key(KeyPurpose::Signing)],
            &AuditEvent::new(AuditKind::Registration, "test", account.created_at).account(&account),
        )
        .await
        .unwrap();
    (service, data)
}

async fn start_login(service: &Service, level: &str) -> (u16, Value) {
    let body = serde_json::json!({
        "relyingPartyUUID": "00000000-0000-4000-8000-000000000000", "relyingPartyName": "DEMO",
        "certificateLevel": level,
        "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "hashType": "SHA256",
        "allowedInteractionsOrder": [{ "type": "displayTextAndPIN", "displayText60": "Log in" }]
    });
    let (status, bytes) = splitid_testkit::in_process::call(
        service,
        Method::POST,
        "/v2/authentication/etsi/PNOEE-30303039914",
        &body.to_string(),
    )
    .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_person_with_only_an_advanced_account_gets_471_for_qualified() {
    let (service, _data) = service_with_an_advanced_account().await;
    let (status, answer) = start_login(&service, "QUALIFIED").await;
    assert_eq!(status, 471, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("no account of level QUALIFIED"),
        "{answer}"
    );
    // The demo relying party may not ask for ADVANCED accounts at all, as Smart-ID's demo.
    let (status, _) = start_login(&service, "ADVANCED").await;
    assert_eq!(status, 403);
}

/// RP API v3 (from 3.2.0): 404 with `errors[].code` `NO_SUITABLE_ACCOUNT_FOUND`, as a problem.
#[tokio::test]
async fn v3_answers_404_with_no_suitable_account_found() {
    let (service, _data) = service_with_an_advanced_account().await;
    let body = serde_json::json!({
        "relyingPartyUUID": "00000000-0000-4000-8000-000000000000", "relyingPartyName": "DEMO",
        "signatureProtocol": "ACSP_V2",
        "signatureProtocolParameters": {
            "rpChallenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "signatureAlgorithm": "rsassa-pss",
            "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-512"}
        },
        "interactions": "W3sidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IkxvZyBpbiJ9XQ==",
        "vcType": "numeric4",
    });
    let (status, bytes) = splitid_testkit::in_process::call(
        &service,
        Method::POST,
        "/v3/authentication/notification/etsi/PNOEE-30303039914",
        &body.to_string(),
    )
    .await;
    let problem: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "NO_SUITABLE_ACCOUNT_FOUND");
    assert_eq!(problem["type"], "about:blank");
}
