//! Records for the store's own tests: an account with its two keys, ready to insert.

use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use crate::{
    AccountRecord, AccountState, AuditEvent, AuditKind, ChannelState, KeyPurpose, KeyRecord,
    PinCounter, SessionKind, SessionRecord, SessionState, Store,
};

pub const NOW: OffsetDateTime = datetime!(2026-12-02 10:00:00.123456789 UTC);

/// An active account of `person`, with document number `document`.
pub fn account(person: &str, document: &str) -> AccountRecord {
    AccountRecord {
        id: Uuid::new_v4(),
        document_number: document.to_owned(),
        semantics_id: person.to_owned(),
        given_name: "MARY".into(),
        surname: "ÄNN".into(),
        country: "EE".into(),
        level: "QUALIFIED".into(),
        proofing_method: "demo".into(),
        state: AccountState::Active,
        closed_reason: None,
        created_at: NOW,
        expires_at: NOW + time::Duration::days(3 * 365),
        last_used_at: None,
        mac_key_sealed: vec![1, 2, 3],
        channel: ChannelState {
            ratchet_token: vec![7; 32],
            ..ChannelState::default()
        },
        interactions: vec!["displayTextAndPIN".into()],
        proofing_evidence: serde_json::json!({"method": "demo"}),
    }
}

/// A key for `purpose` with the certificate serial `serial`.
pub fn key(purpose: KeyPurpose, serial: &str) -> KeyRecord {
    KeyRecord {
        purpose,
        half_bits: 2048,
        device_modulus: vec![0xc5; 256],
        server_exponent_sealed: vec![9; 300],
        server_key_sealed: vec![8; 1200],
        crt_coefficient: Some(vec![3; 256]),
        certificate: format!("certificate {serial}").into_bytes(),
        serial: Some(serial.to_owned()),
        pin: PinCounter::default(),
    }
}

/// Inserts an account of `person` with keys whose serials are `<document>-a` and `-s`.
pub async fn insert_account(store: &Store, person: &str, document: &str) -> AccountRecord {
    let account = account(person, document);
    let keys = [
        key(KeyPurpose::Authentication, &format!("{document}-a")),
        key(KeyPurpose::Signing, &format!("{document}-s")),
    ];
    let audit = AuditEvent::new(AuditKind::Registration, "device", NOW).account(&account);
    store.insert_account(&account, &keys, &audit).await.unwrap();
    account
}

/// A running session of a relying party, with its deadline.
pub fn session(rp_uuid: Uuid, deadline: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        id: Uuid::new_v4(),
        rp_uuid,
        kind: SessionKind::Authentication,
        request: serde_json::json!({"relying_party_name": "DEMO"}),
        fingerprint: Uuid::new_v4().to_string(),
        state: SessionState::Running,
        result: None,
        created_at: NOW,
        deadline,
        completed_at: None,
        link_token: None,
    }
}
