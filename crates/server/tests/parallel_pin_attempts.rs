//! Parallel wrong PINs cannot win extra guesses: attempts on one account are judged one at a
//! time (under the account's lock, which holds across nodes on PostgreSQL) and counted before
//! the check, so a burst of wrong partial signatures gets exactly the three the policy allows
//! before the 3-hour lock, and the rest are refused uncounted; also when the burst is spread
//! over two nodes on one database. And a right PIN that loses the race for its session to
//! another device still resets its counter.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::app_v1::{KeyHandover, Proofing, RegistrationProof, RegistrationRequest};
use splitid_server::Service;
use splitid_server::accounts::PinOutcome;
use splitid_server::accounts::pin_policy::PinState;
use splitid_server::store::{
    AccountRecord, AuditEvent, AuditKind, KeyPurpose, KeyRecord, SessionCompletion,
};
use splitkey::{
    CompositePublicKey, DeviceKeyOptions, HalfSize, HashAlgorithm, KdfParams, Padding,
    PartialSignature, Pin, SignRequest, generate_device_key, proof_of_possession_request,
};

const HALF: HalfSize = HalfSize::Bits2048;

fn handover(pin: &Pin) -> (splitkey::DeviceShare, KeyHandover) {
    let options = DeviceKeyOptions {
        half: HALF,
        kdf: KdfParams::INSECURE_FAST,
        min_pin_digits: 4,
    };
    let (share, handover) = generate_device_key(pin, b"test", options).unwrap();
    let wire = KeyHandover {
        half_bits: 2048,
        device_modulus: BASE64.encode(handover.device_modulus()),
        server_exponent: BASE64.encode(handover.server_exponent()),
    };
    (share, wire)
}

fn prove(share: &splitkey::DeviceShare, pin: &Pin, modulus: &str, challenge: &str) -> String {
    let key = CompositePublicKey::from_modulus(&BASE64.decode(modulus).unwrap()).unwrap();
    let request = proof_of_possession_request(&key, &BASE64.decode(challenge).unwrap()).unwrap();
    BASE64.encode(share.partial_sign(pin, &request).unwrap().as_bytes())
}

/// A registered demo account, with its two device shares and PINs.
struct Registered {
    account: AccountRecord,
    auth: splitkey::DeviceShare,
    sign: splitkey::DeviceShare,
    pin1: Pin,
    pin2: Pin,
}

async fn register(service: &Service) -> Registered {
    let (pin1, pin2) = (Pin::new("1234").unwrap(), Pin::new("12345").unwrap());
    let (auth, auth_wire) = handover(&pin1);
    let (sign, sign_wire) = handover(&pin2);
    let challenge = service
        .begin_registration(RegistrationRequest {
            proofing: Proofing::Demo {
                semantics_identifier: "PNOEE-30303039914".into(),
                given_name: "MARY".into(),
                surname: "ÄNN".into(),
            },
            authentication: auth_wire,
            signing: sign_wire,
            supported_interactions: None,
        })
        .await
        .unwrap();
    let proof = RegistrationProof {
        authentication: prove(
            &auth,
            &pin1,
            &challenge.authentication.modulus,
            &challenge.challenge,
        ),
        signing: prove(
            &sign,
            &pin2,
            &challenge.signing.modulus,
            &challenge.challenge,
        ),
    };
    let registered = service
        .complete_registration(&challenge.registration_id, proof)
        .await
        .unwrap();
    let account = service
        .store()
        .account(registered.account_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    Registered {
        account,
        auth,
        sign,
        pin1,
        pin2,
    }
}

async fn stored_key(service: &Service, account: &AccountRecord, purpose: KeyPurpose) -> KeyRecord {
    service
        .store()
        .key(account.id, purpose)
        .await
        .unwrap()
        .unwrap()
}

/// One PIN attempt, under the account's lock, as the app channel makes it: the key read
/// under the lock, and a right PIN's reset written.
async fn attempt(
    service: &Service,
    account: &AccountRecord,
    purpose: KeyPurpose,
    request: &SignRequest,
    partial: PartialSignature,
) -> PinOutcome {
    let lock = service.store().lock_account(account.id).await.unwrap();
    let key = stored_key(service, account, purpose).await;
    let outcome = service
        .sign_with_pin(account, lock.proof(), key, request, partial)
        .await
        .unwrap();
    if let PinOutcome::Signed { right_pin, .. } = &outcome {
        service.store().record_right_pin(right_pin).await.unwrap();
    }
    lock.release().await;
    outcome
}

/// Ten parallel wrong PIN1 attempts, spread over `nodes`; then the checks.
async fn burst_of_wrong_pins(nodes: &[Service], registered: &Registered) {
    let Registered {
        account,
        auth,
        sign,
        pin1,
        pin2,
    } = registered;
    let service = &nodes[0];
    let digest = HashAlgorithm::Sha256.digest(b"burst");
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap();
    let wrong = auth
        .partial_sign(&Pin::new("0000").unwrap(), &request)
        .unwrap();
    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let node = nodes[i % nodes.len()].clone();
            let (account, request) = (account.clone(), request.clone());
            let partial = PartialSignature::from_bytes(wrong.as_bytes());
            tokio::spawn(async move {
                attempt(
                    &node,
                    &account,
                    KeyPurpose::Authentication,
                    &request,
                    partial,
                )
                .await
            })
        })
        .collect();
    let mut counted = 0;
    let mut refused_while_locked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            PinOutcome::WrongPin(_) => counted += 1,
            PinOutcome::Locked(PinState::Locked { .. }) => refused_while_locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((counted, refused_while_locked), (3, 7));
    let key = stored_key(service, account, KeyPurpose::Authentication).await;
    assert_eq!(key.pin.wrong_in_a_row, 3);
    assert!(matches!(service.pin_state(&key), PinState::Locked { .. }));

    // Even the right PIN is refused now, and PIN2 counts on its own.
    let right = auth.partial_sign(pin1, &request).unwrap();
    let outcome = attempt(
        service,
        account,
        KeyPurpose::Authentication,
        &request,
        right,
    )
    .await;
    assert!(matches!(outcome, PinOutcome::Locked(_)));
    let signing = sign.partial_sign(pin2, &request).unwrap();
    let before = service.now();
    let outcome = attempt(service, account, KeyPurpose::Signing, &request, signing).await;
    assert!(matches!(outcome, PinOutcome::Signed { .. }));
    // The right PIN left the signing counter at zero and recorded the account's use.
    let signing_key = stored_key(service, account, KeyPurpose::Signing).await;
    assert_eq!(signing_key.pin.wrong_in_a_row, 0);
    // Registration kept the CRT coefficient, so that signature was completed with it.
    assert!(signing_key.crt_coefficient.is_some());
    let used = service.store().account(account.id).await.unwrap().unwrap();
    assert!(used.last_used_at.is_some_and(|at| at >= before), "{used:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_pins_gets_exactly_three_attempts() {
    let (service, _data) =
        common::demo_service_with(|config| config.allow_2048_bit_halves = true).await;
    let registered = register(&service).await;
    burst_of_wrong_pins(&[service], &registered).await;
}

/// Two nodes on one PostgreSQL database (whatever the other tests run on): the account's
/// lock is the database's, so the nodes cannot race each other past the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_spread_over_two_nodes_gets_exactly_three_attempts() {
    let data = common::TestData::new(true).await;
    let first = data
        .open(|config| config.allow_2048_bit_halves = true)
        .await;
    let second = data
        .open(|config| config.allow_2048_bit_halves = true)
        .await;
    let registered = register(&first).await;
    burst_of_wrong_pins(&[first, second], &registered).await;
}

/// Starts a login for the registered person through the relying-party API; its session id.
async fn start_login(service: &Service) -> uuid::Uuid {
    let body = serde_json::json!({
        "relyingPartyUUID": "00000000-0000-4000-8000-000000000000", "relyingPartyName": "DEMO",
        "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "hashType": "SHA256",
        "allowedInteractionsOrder": [{ "type": "displayTextAndPIN", "displayText60": "Log in" }]
    });
    let (status, bytes) = common::call(
        service,
        axum::http::Method::POST,
        "/v2/authentication/etsi/PNOEE-30303039914",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let started: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    started["sessionID"].as_str().unwrap().parse().unwrap()
}

/// How one device's answer completes the session, as the session flow writes it.
fn completion<'a>(
    service: &Service,
    session: uuid::Uuid,
    result: &'a serde_json::Value,
    audit: &'a AuditEvent,
    right_pin: Option<&'a splitid_server::store::RightPin>,
) -> SessionCompletion<'a> {
    SessionCompletion {
        session_id: session,
        result,
        end_result: result["endResult"].as_str().unwrap(),
        answered_by: right_pin.map(|right| right.account),
        now: service.now(),
        audit,
        right_pin,
    }
}

/// The race a right PIN can lose: after two wrong PINs, the person enters the right one on
/// this device, and between its check and its commit another device answers the session
/// (here: refuses). The first answer stays the session's result, and the right PIN still
/// counts: its reset is committed, so the two wrong PINs before it are forgotten.
#[tokio::test]
async fn a_right_pin_that_loses_its_session_still_resets_the_counter() {
    let (service, _data) =
        common::demo_service_with(|config| config.allow_2048_bit_halves = true).await;
    let Registered {
        account,
        auth,
        pin1,
        ..
    } = &register(&service).await;
    let digest = HashAlgorithm::Sha256.digest(b"race");
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap();
    for _ in 0..2 {
        let wrong = auth
            .partial_sign(&Pin::new("0000").unwrap(), &request)
            .unwrap();
        let outcome = attempt(
            &service,
            account,
            KeyPurpose::Authentication,
            &request,
            wrong,
        )
        .await;
        assert!(matches!(outcome, PinOutcome::WrongPin(_)), "{outcome:?}");
    }
    let session = start_login(&service).await;
    let audit = AuditEvent::new(AuditKind::Login, "test", service.now());

    // This device's right PIN is checked under the account's lock...
    let lock = service.store().lock_account(account.id).await.unwrap();
    let key = stored_key(&service, account, KeyPurpose::Authentication).await;
    let right = auth.partial_sign(pin1, &request).unwrap();
    let PinOutcome::Signed { right_pin, .. } = service
        .sign_with_pin(account, lock.proof(), key, &request, right)
        .await
        .unwrap()
    else {
        panic!("the right PIN was refused");
    };
    // ...when another device's refusal completes the session first.
    let refused = serde_json::json!({ "endResult": "USER_REFUSED" });
    let first = service
        .store()
        .complete_session(&completion(&service, session, &refused, &audit, None))
        .await
        .unwrap();
    assert!(first.is_some(), "the refusal completes the session");
    let signed = serde_json::json!({ "endResult": "OK" });
    let second = service
        .store()
        .complete_session(&completion(
            &service,
            session,
            &signed,
            &audit,
            Some(&right_pin),
        ))
        .await
        .unwrap();
    lock.release().await;

    assert!(second.is_none(), "the first answer wins");
    let stored = service.store().session(session).await.unwrap().unwrap();
    assert_eq!(stored.result, Some(refused));
    let key = stored_key(&service, account, KeyPurpose::Authentication).await;
    assert_eq!(key.pin.wrong_in_a_row, 0, "the right PIN's reset was lost");
}
